"""``python -m resrl.preflight --profile experiments/profile/<name>.yaml``: what a DAG needs from outside, checked
before any training starts (the DAG's first job).

- Placeholders left in the profile (a value starting with ``/path/to/`` or holding ``<edit>``) are named with
  their field: edit them for your cluster.
- Each domain's training data: the task is built and its data looked up (``check_data``); a missing file names the
  dataset, its version and the command that fetches it.

Everything wrong is listed, one line each, then the exit status is 2; nothing wrong: exit 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_MARKS = ("/path/to/", "<edit>")


def placeholders(node: Any, where: str = "") -> Iterator[str]:
    """Dotted paths (with the value) of every string in ``node`` that is a placeholder."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from placeholders(v, f"{where}.{k}" if where else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from placeholders(v, f"{where}[{i}]")
    elif isinstance(node, str) and any(mark in node for mark in PLACEHOLDER_MARKS):
        yield f"{where}: {node!r} is a placeholder; edit it for your cluster"


def task_overrides(profile: dict[str, Any], domain: dict[str, Any]) -> dict[str, Any]:
    """The ``task.<a>.<b>=value`` overrides the domain's training passes (the profile's, then the domain's), as a
    nested mapping to lay over the task config."""
    out: dict[str, Any] = {}
    for o in [
        *(profile.get("train") or {}).get("overrides", []),
        *(domain.get("train") or {}).get("overrides", []),
    ]:
        key, _, value = str(o).partition("=")
        if not key.startswith("task."):
            continue
        node = out
        *parents, leaf = key.split(".")[1:]
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value) if value else value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in over.items():
        merged[k] = _merge(merged.get(k) or {}, v) if isinstance(v, dict) else v
    return merged


def data_problems(profile: dict[str, Any]) -> Iterator[str]:
    """One line per domain whose training task cannot find its data (with the domain's ``task.*`` overrides)."""
    from resrl.tasks import make_task
    from resrl.tasks.registry import load_task_config

    for name, domain in (profile.get("domains") or {}).items():
        try:
            config = _merge(load_task_config(domain["task"]), task_overrides(profile, domain))
            task = make_task(config)
            check = getattr(task, "check_data", None)
            if check is not None:
                check()
        except (FileNotFoundError, ValueError) as err:
            yield f"domains.{name}.task={domain['task']}: {err}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m resrl.preflight", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", required=True, help="the DAG profile (experiments/profile/<name>.yaml)")
    args = ap.parse_args(argv)
    path = Path(args.profile)
    profile = yaml.safe_load(path.read_text()) or {}
    problems = [f"{path}: {p}" for p in placeholders(profile)] + [
        f"{path}: {p}" for p in data_problems(profile)
    ]
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print(f"{path}: every domain's training data found, no placeholders")
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
