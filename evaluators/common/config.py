"""The settings every evaluator shares (:class:`EvalConfig`); each family's config adds only its own fields.

Families: ``evaluators.math.config.MathEvalConfig``, ``evaluators.code.config.CodeEvalConfig``,
``evaluators.agents.config.AgentEvalConfig``, ``evaluators.bfcl.config.BFCLEvalConfig``. The model is given the same
way to all four: ``model=<name>`` (``experiments/model/<name>.yaml``) or ``checkpoint=<save_pretrained folder>``
(:mod:`evaluators.common.policy` resolves either into a ``ModelSpec``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluators.common.policy import ENGINES

FORMATS = ("csv", "parquet")


@dataclass
class EvalConfig:
    """Model, labels, engine, intervals and output of one evaluation run (the fields every family has)."""

    model: Any = None  # model config name (experiments/model/<name>.yaml)
    checkpoint: str | None = (
        None  # a save_pretrained folder to evaluate instead of model (e.g. a trained run)
    )
    method: str = "base"  # label of the training method in the metrics table (base, grpo, resrl, ...)
    model_name: str | None = (
        None  # label of the model in the metrics table; default: the model or checkpoint name
    )
    run_name: str | None = None  # default: <method>-<model label>
    seed: int = 0
    engine: str = "auto"  # auto: vllm when a GPU and vllm are present, else hf (transformers)
    device: str = "auto"  # auto: cuda when torch sees a GPU, else cpu
    batch_size: int = 8  # sequences per generate call (hf engine)
    n_boot: int = 1000  # bootstrap resamples for the confidence intervals
    ci: float = 0.95
    format: str = "csv"  # metrics file format: csv or parquet
    results_dir: str | None = None  # default: resrl.paths.results_dir()
    overwrite: bool = (
        False  # stored samples of another model or other settings: false = refuse, true = delete them
    )

    def __post_init__(self) -> None:
        if not self.checkpoint and not self.model:
            raise ValueError("no model: set model=<name> (experiments/model/) or checkpoint=<folder>")
        if self.engine not in ENGINES:
            raise ValueError(f"engine={self.engine!r}; allowed: {list(ENGINES)}")
        if self.format not in FORMATS:
            raise ValueError(f"format={self.format!r}; allowed: {list(FORMATS)}")
        if not 0 < self.ci < 1:
            raise ValueError(f"ci must be in (0, 1), got {self.ci}")
        for name in ("batch_size", "n_boot"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def require_pass_ks(self, n: int) -> None:
        """``limit`` null or >= 1; ``pass_ks`` (when given) within [1, n]."""
        if self.limit is not None and self.limit < 1:  # type: ignore[attr-defined]
            raise ValueError(f"limit must be >= 1 or null, got {self.limit}")  # type: ignore[attr-defined]
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        pass_ks = getattr(self, "pass_ks", None)
        if pass_ks is not None and any(not 1 <= k <= n for k in pass_ks):
            raise ValueError(f"pass_ks must lie in [1, n={n}], got {pass_ks}")

    def require_positive(self, *names: str, optional: bool = False) -> None:
        """Each field of ``names`` must be >= 1 (``optional``: or null)."""
        for name in names:
            value = getattr(self, name)
            if optional and value is None:
                continue
            if value < 1:
                raise ValueError(f"{name} must be >= 1{' or null' if optional else ''}, got {value}")
