"""The model card (``README.md``) of an exported ``final_model/``, in the Hugging Face format: YAML front matter
(base model, library, tags, datasets) and a body saying what was trained, how, how well it did on held-out problems
(with a 95% bootstrap interval over problems) and what produced it (git commit, configuration fingerprint, seed), so
the folder can be pushed to the Hub as it is.

Written by the local trainer's export and by the veRL checkpoint converter (``resrl.backends.verl.checkpoint``) from
the run's resolved configuration (``run_config.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

CARD_FILE = "README.md"
N_BOOT = 2000


def base_model(model: Mapping[str, Any]) -> str | None:
    """The Hub id the policy started from (a ``source: hub`` model), else None (a GGUF package or a random init is
    named in the card's body instead)."""
    return str(model["hub_id"]) if model.get("source") == "hub" and model.get("hub_id") else None


def heldout_interval(samples: Sequence[Mapping[str, Any]], seed: int = 0) -> dict[str, float] | None:
    """Avg@n of evaluation samples (``problem_id`` and ``correct``, or ``success`` for episodes) with a 95%
    percentile bootstrap over problems:
    ``{"avg": .., "low": .., "high": .., "problems": P, "n": samples per problem}``; None without samples."""
    by_problem: dict[Any, list[bool]] = {}
    for r in samples:  # single-turn rows say ``correct``; episode rows ``success``; other rows are not graded
        ok = r.get("correct", r.get("success"))
        if ok is not None and "problem_id" in r:
            by_problem.setdefault(r["problem_id"], []).append(bool(ok))
    if not by_problem:
        return None
    per = np.array([np.mean(v) for v in by_problem.values()], dtype=np.float64)
    rng = np.random.default_rng(seed)
    reps = per[rng.integers(0, len(per), size=(N_BOOT, len(per)))].mean(axis=1)
    low, high = np.quantile(reps, [0.025, 0.975])
    return {
        "avg": float(per.mean()),
        "low": float(low),
        "high": float(high),
        "problems": len(per),
        "n": min(len(v) for v in by_problem.values()),
    }


def render(
    config: Mapping[str, Any],
    *,
    steps: int,
    heldout: Mapping[str, float] | None,
    provenance: Mapping[str, Any],
    backend: str,
) -> str:
    """The card's text from a run's resolved configuration (``model``, ``method``, ``task``, ``trainer``)."""
    model, method, task = config.get("model", {}), config.get("method", {}), config.get("task", {})
    trainer = config.get("trainer", {})
    method_name = str(method.get("name", "unknown"))
    front: dict[str, Any] = {}
    if base_model(model):
        front["base_model"] = base_model(model)
    front["library_name"] = "transformers"
    front["pipeline_tag"] = "text-generation"
    front["tags"] = ["resrl-reproduction", "reinforcement-learning", "rlvr", method_name]
    if task.get("hf_dataset"):
        front["datasets"] = [str(task["hf_dataset"])]
    lines = ["---", yaml.safe_dump(front, sort_keys=False).strip(), "---", ""]
    lines.append(f"# {config.get('run_name') or method_name}")
    lines.append("")
    lines.append(
        f"A policy trained with **{method_name}** by the ResRL reproduction suite ({backend} backend), starting from "
        + (f"`{base_model(model)}`" if base_model(model) else f"`{_model_origin(model)}`")
        + f", on the task `{task.get('name', 'unknown')}`."
    )
    lines += ["", "## Training", "", "| setting | value |", "|---|---|"]
    lines.append(f"| steps | {steps} |")
    for key in ("prompts_per_step", "n", "lr", "max_new_tokens", "temperature", "seed"):
        if key in trainer:
            lines.append(f"| trainer.{key} | {trainer[key]} |")
    for key, value in method.items():
        if key != "name":
            lines.append(f"| method.{key} | {value} |")
    lines += ["", "## Held-out evaluation", ""]
    if heldout:
        lines.append(
            f"Avg@{heldout['n']} on {heldout['problems']} held-out problems of the task's test split (the trainer's "
            f"final evaluation): **{100 * heldout['avg']:.1f}%**, 95% bootstrap interval over problems "
            f"[{100 * heldout['low']:.1f}, {100 * heldout['high']:.1f}]."
        )
    else:
        lines.append("No held-out evaluation was recorded with this checkpoint.")
    lines += ["", "## Provenance", "", "| | |", "|---|---|"]
    for key in ("git_commit", "config_fingerprint", "seed", "created_utc"):
        if provenance.get(key) is not None:
            lines.append(f"| {key} | `{provenance[key]}` |")
    lines.append("")
    lines.append(
        "The full resolved configuration is `run_config.json` in the run folder this model was exported from."
    )
    return "\n".join(lines) + "\n"


def _model_origin(model: Mapping[str, Any]) -> str:
    if model.get("source") == "gguf_package":
        return f"{model.get('gguf_file')} (PyPI package {model.get('gguf_package')})"
    return str(model.get("name", "unknown"))


def write_card(
    model_dir: str | Path,
    config: Mapping[str, Any],
    *,
    steps: int,
    samples: Sequence[Mapping[str, Any]] = (),
    backend: str = "local",
) -> Path:
    """Write ``<model_dir>/README.md`` for the run ``config`` (provenance of this process: git commit, config
    fingerprint, seed)."""
    from resrl.records import atomic_write_text, config_fingerprint
    from resrl.records.provenance import git_commit

    seed = config.get("trainer", {}).get("seed")
    provenance = {
        "git_commit": git_commit(),
        "config_fingerprint": config_fingerprint(dict(config), ()),
        "seed": seed,
    }
    heldout = heldout_interval(samples, int(seed or 0))
    return atomic_write_text(
        Path(model_dir) / CARD_FILE,
        render(config, steps=steps, heldout=heldout, provenance=provenance, backend=backend),
    )


def read_samples(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an ``eval_samples/step_*.jsonl`` file (empty when it does not exist)."""
    p = Path(path)
    if not p.is_file():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
