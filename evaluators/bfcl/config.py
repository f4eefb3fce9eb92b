"""Typed settings of the BFCL multi-turn evaluation. Hydra composes ``experiments/model/<name>.yaml`` into
``model`` (see ``evaluators/bfcl/__main__.py``); everything else is set with ``key=value``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.bfcl.data import CATEGORIES, canonical_category
from evaluators.bfcl.prompts import CALL_FORMATS

ENGINES = ("auto", "hf", "vllm")
FORMATS = ("csv", "parquet")


@dataclass
class BFCLEvalConfig:
    """One evaluation run over BFCL v3 multi-turn (paper Table 4: overall, base, miss func, miss param, long
    context). Defaults follow BFCL's own generation settings (temperature 0.001, at most 4096 new tokens per
    reply, 20 executing steps per user turn), the paper gives none for BFCL."""

    defaults: list[Any] = field(default_factory=lambda: ["_self_", {"model": "smollm2-135m"}])
    model: dict[str, Any] = field(default_factory=dict)  # model config name (experiments/model/<name>.yaml)
    checkpoint: str | None = (
        None  # a save_pretrained folder to evaluate instead of `model` (e.g. a trained run)
    )
    method: str = "base"  # training-method label in the metrics table
    model_name: str | None = None  # model label in the metrics table (default: the model or checkpoint name)
    run_name: str | None = None  # default: <method>-<model label>
    subset: str = "all"  # one category (base, miss_func, miss_param, long_context) or all
    limit: int | None = None  # first N entries of each category (a quick subset)
    data_dir: str | None = None  # bfcl_eval data layout; null = the installed bfcl_eval package's data/
    call_format: str = "prompt"  # prompt: BFCL prompting (any chat model); fc: chat-template tools (Qwen3)
    temperature: float = 0.001  # BFCL's default
    top_p: float = 1.0
    max_new_tokens: int = 4096  # per reply (BFCL caps local models at 4096)
    max_turn_steps: int = (
        20  # executing replies per user turn before a forced quit (BFCL's MAXIMUM_STEP_LIMIT)
    )
    max_replies: int | None = (
        None  # replies per episode; null = turns * (max_turn_steps + 1), BFCL's own bound
    )
    max_total_tokens: int | None = None  # prompt + transcript tokens per episode; null = the model's context
    enable_thinking: bool | None = None  # Qwen3 think mode; null = the model config's chat_template_kwargs
    seed: int = 0
    engine: str = "auto"  # auto: vllm with a GPU and vllm installed, else hf
    device: str = "auto"  # auto: cuda when torch sees a GPU, else cpu
    batch_size: int = 8  # sequences per generate call (hf)
    episodes_per_chunk: int = 8  # episodes run together and stored per step (resume granularity)
    progress: bool = True  # a progress bar over the replies of each chunk of episodes
    n_boot: int = 1000  # bootstrap resamples for the confidence intervals
    ci: float = 0.95
    format: str = "csv"  # metrics file format: csv or parquet
    results_dir: str | None = None  # default: resrl.paths.results_dir()
    overwrite: bool = (
        False  # stored episodes of another model or other settings: false = refuse, true = delete them
    )

    def __post_init__(self) -> None:
        if self.subset != "all":
            self.subset = canonical_category(self.subset)
        if self.call_format not in CALL_FORMATS:
            raise ValueError(f"call_format={self.call_format!r}; allowed: {list(CALL_FORMATS)}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine={self.engine!r}; allowed: {list(ENGINES)}")
        if self.format not in FORMATS:
            raise ValueError(f"format={self.format!r}; allowed: {list(FORMATS)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1 or null, got {self.limit}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not 0 < self.ci < 1:
            raise ValueError(f"ci must be in (0, 1), got {self.ci}")
        for name in ("max_new_tokens", "max_turn_steps", "batch_size", "episodes_per_chunk", "n_boot"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_replies", "max_total_tokens"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 or null, got {getattr(self, name)}")
        if not self.model and not self.checkpoint:
            raise ValueError("no model: set model=<name> (experiments/model/) or checkpoint=<folder>")

    @property
    def categories(self) -> list[str]:
        """The categories this run evaluates, in the paper's column order."""
        return list(CATEGORIES) if self.subset == "all" else [self.subset]
