"""``make_task``: a task by name (``experiments/task/<name>.yaml``) or from a config mapping."""

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

TASK_CONFIG_DIR = REPO_ROOT / "experiments" / "task"
TASKS: dict[str, tuple[type, type[Task]]] = {
    "arith": (ArithConfig, ArithTask),
    "dapo_math": (DapoMathConfig, DapoMathTask),
}


def task_config_from_dict(data: Mapping[str, Any]) -> Any:
    """The typed config dataclass for ``data["name"]``; unknown names or fields raise a ValueError."""
    name = data.get("name")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(sorted(TASKS))}")
    cls = TASKS[name][0]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown} for task {name!r}; allowed: {sorted(known)}")
    return cls(**dict(data))


def load_task_config(name: str, config_dir: Path = TASK_CONFIG_DIR) -> dict[str, Any]:
    path = config_dir / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(sorted(TASKS))}")
    data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("name", name)
    return data


def make_task(spec: str | Mapping[str, Any], **overrides: Any) -> Task:
    """``make_task("arith", level=2)`` reads ``experiments/task/arith.yaml`` and applies ``overrides``;
    a mapping (e.g. a Hydra ``task`` node as a dict) is used as the whole config."""
    data = load_task_config(spec) if isinstance(spec, str) else dict(spec)
    data.update(overrides)
    config = task_config_from_dict(data)
    return TASKS[config.name][1](config)
