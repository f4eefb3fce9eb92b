"""Typed settings of the BFCL multi-turn evaluation. Hydra composes ``experiments/model/<name>.yaml`` into
``model`` (see ``evaluators/bfcl/__main__.py``); everything else is set with ``key=value``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.bfcl.data import CATEGORIES, canonical_category
from evaluators.bfcl.prompts import CALL_FORMATS
from evaluators.common.config import EvalConfig


@dataclass
class BFCLEvalConfig(EvalConfig):
    """One evaluation run over BFCL v3 multi-turn (paper Table 4: overall, base, miss func, miss param, long
    context); the shared fields: ``evaluators.common.config.EvalConfig``. Defaults follow BFCL's own generation
    settings (temperature 0.001, at most 4096 new tokens per reply, 20 executing steps per user turn), the paper
    gives none for BFCL."""

    defaults: list[Any] = field(default_factory=lambda: ["_self_", {"model": "smollm2-135m"}])
    model: dict[str, Any] = field(default_factory=dict)  # model config name (experiments/model/<name>.yaml)
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
    reuse_cache: bool = True  # hf engine: keep each episode's key/value cache across turns
    episodes_per_chunk: int = 8  # episodes run together and stored per step (resume granularity)
    progress: bool = True  # a progress bar over the replies of each chunk of episodes

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.subset != "all":
            self.subset = canonical_category(self.subset)
        if self.call_format not in CALL_FORMATS:
            raise ValueError(f"call_format={self.call_format!r}; allowed: {list(CALL_FORMATS)}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        self.require_positive("limit", "max_replies", "max_total_tokens", optional=True)
        self.require_positive("max_new_tokens", "max_turn_steps", "episodes_per_chunk")

    @property
    def categories(self) -> list[str]:
        """The categories this run evaluates, in the paper's column order."""
        return list(CATEGORIES) if self.subset == "all" else [self.subset]
