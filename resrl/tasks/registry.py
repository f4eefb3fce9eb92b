"""``make_task``: a task by name (``experiments/task/<name>.yaml``) or from a config mapping.

A config with ``kind: env`` is a multi-turn environment task (``resrl.tasks.env_task.EnvTask``), whatever
its ``name`` (``alfworld``, ``bfcl``, ``guess``); other configs are looked up by ``name`` in ``TASKS``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from resrl.paths import REPO_ROOT
from resrl.tasks.arith import ArithConfig, ArithTask
from resrl.tasks.base import Task
from resrl.tasks.dapo_math import DapoMathConfig, DapoMathTask
from resrl.tasks.env_task import EnvTask, EnvTaskConfig
from resrl.tasks.problem_task import ProblemTask, ProblemTaskConfig

TASK_CONFIG_DIR = REPO_ROOT / "experiments" / "task"
TASKS: dict[str, tuple[type, type[Task]]] = {
    "arith": (ArithConfig, ArithTask),
    "dapo_math": (DapoMathConfig, DapoMathTask),
}
#: Task kinds selected by a config's ``kind`` field instead of its name.
TASK_KINDS: dict[str, tuple[type, type[Task]]] = {
    "env": (EnvTaskConfig, EnvTask),
    "problems": (ProblemTaskConfig, ProblemTask),
}


def _task_entry(data: Mapping[str, Any]) -> tuple[type, type[Task]]:
    """(config class, task class) for a config mapping: by ``kind`` when given, else by ``name``."""
    if "kind" in data:
        kind = data["kind"]
        if kind not in TASK_KINDS:
            raise ValueError(f"unknown task kind {kind!r}; valid kinds: {', '.join(sorted(TASK_KINDS))}")
        return TASK_KINDS[kind]
    name = data.get("name")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid tasks: {_valid_names()}")
    return TASKS[name]


def available_tasks(config_dir: Path = TASK_CONFIG_DIR) -> list[str]:
    """Task names: the built-in ones and every ``<name>.yaml`` in ``config_dir``."""
    return sorted(set(TASKS) | {p.stem for p in config_dir.glob("*.yaml")})


def _valid_names(config_dir: Path = TASK_CONFIG_DIR) -> str:
    others = sorted(set(available_tasks(config_dir)) - set(TASKS))
    text = ", ".join(sorted(TASKS))
    return text + (f"; other task configs (e.g. kind: env): {', '.join(others)}" if others else "")


def task_config_from_dict(data: Mapping[str, Any]) -> Any:
    """The typed config dataclass for ``data`` (by ``kind``, else ``name``); unknown names, kinds or fields
    raise a ValueError."""
    cls = _task_entry(data)[0]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"unknown field(s) {unknown} for task {data.get('name')!r}; allowed: {sorted(known)}"
        )
    return cls(**dict(data))


def load_task_config(name: str, config_dir: Path = TASK_CONFIG_DIR) -> dict[str, Any]:
    path = config_dir / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown task {name!r}; valid tasks: {_valid_names(config_dir)}")
    data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("name", name)
    return data


def make_task(spec: str | Mapping[str, Any], **overrides: Any) -> Task:
    """``make_task("arith", level=2)`` reads ``experiments/task/arith.yaml`` and applies ``overrides``;
    a mapping (e.g. a Hydra ``task`` node as a dict) is used as the whole config."""
    data = load_task_config(spec) if isinstance(spec, str) else dict(spec)
    data.update(overrides)
    config = task_config_from_dict(data)
    return _task_entry(data)[1](config)
