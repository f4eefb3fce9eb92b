"""Shared pieces of the evaluators' ``key=value`` command lines (code, agents, BFCL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: Plain string fields whose name is also a Hydra config group folder under ``experiments/`` (``method/``):
#: ``method=resrl`` is a label here, not a choice of that group, so it is set after composing.
LABEL_FIELDS: tuple[str, ...] = ("method",)


def compose_config(config_dir: Path, config_name: str, schema: type[T], overrides: list[str]) -> T:
    """Compose ``config_name`` from ``config_dir`` with Hydra ``overrides`` and validate it against the
    dataclass ``schema`` (unknown keys and bad values raise, naming the field)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    labels: dict[str, Any] = {}
    rest = []
    for o in overrides:
        key, sep, value = o.partition("=")
        if sep and key in LABEL_FIELDS:
            labels[key] = value
        else:
            rest.append(o)
    ConfigStore.instance().store(name=config_name, node=schema)
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        cfg = hydra_compose(config_name=config_name, overrides=rest)
    for key, value in labels.items():
        cfg[key] = value
    return OmegaConf.to_object(cfg)
