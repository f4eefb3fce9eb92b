"""Typed settings of the agent evaluation (``python -m evaluators.agents key=value ...``; ``model`` is the Hydra group
``experiments/model/<name>.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.agents.registry import DEFAULT_MAX_STEPS, DEFAULT_SPLIT, ENVS
from evaluators.agents.tasks import TASK_TYPES
from evaluators.common.config import EvalConfig


@dataclass
class AgentEvalConfig(EvalConfig):
    """One agent evaluation run (the shared fields: ``evaluators.common.config.EvalConfig``). Defaults follow the
    paper's agent set-up (Sec. 4, after Wang et al. 2025 / verl-agent): ALFWorld's unseen split, at most 50 steps
    (WebShop: test goals, 15 steps), sampling temperature 0.4 (verl-agent's validation temperature; the paper's
    value is lost in the copy of the text we have), ``<think>`` reasoning then ``<action>``."""

    defaults: list[Any] = field(default_factory=lambda: ["_self_", {"model": "smollm2-135m"}])
    model: dict[str, Any] = field(default_factory=dict)  # model config name (experiments/model/<name>.yaml)
    env: str = "alfworld"  # alfworld | webshop | textworld (plain tw-make games)
    split: str | None = None  # null: alfworld valid_unseen, webshop test (goals 0-499), textworld test
    episodes: int | None = None  # null: every game / goal of the split once; k: the first k (see registry)
    task_types: list[str] | None = None  # ALFWorld task types to keep (null: all six)
    max_steps: int | None = None  # steps per episode; null: 50 (alfworld, textworld), 15 (webshop)
    data_dir: str | None = (
        None  # alfworld: null = $ALFWORLD_DATA, else the shipped generated set; webshop: checkout
    )
    temperature: float = 0.4
    top_p: float = 1.0
    max_new_tokens: int = 512  # per reply (one action)
    max_total_tokens: int | None = None  # prompt + all turns of an episode; null: the model's context length
    think: bool = True  # ask for <think> reasoning before the action
    reuse_cache: bool = True  # hf engine: keep each episode's key/value cache across turns
    episodes_per_chunk: int = 8  # episodes played together and stored per step (resume granularity)
    webshop_num_products: int | None = None  # WebShop product subset (1000 for its small data); null: all
    progress: bool = True  # a progress bar over the replies of each chunk of episodes

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.env not in ENVS:
            raise ValueError(f"env={self.env!r}; allowed: {list(ENVS)}")
        if self.task_types is not None:
            bad = [t for t in self.task_types if t not in TASK_TYPES]
            if bad:
                raise ValueError(f"task_types has unknown types {bad}; known: {list(TASK_TYPES)}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(
                f"need temperature >= 0 and 0 < top_p <= 1, got {self.temperature}, {self.top_p}"
            )
        self.require_positive(
            "episodes", "max_steps", "max_total_tokens", "webshop_num_products", optional=True
        )
        self.require_positive("max_new_tokens", "episodes_per_chunk")

    @property
    def resolved_split(self) -> str:
        return self.split or DEFAULT_SPLIT[self.env]

    @property
    def resolved_max_steps(self) -> int:
        return self.max_steps or DEFAULT_MAX_STEPS[self.env]
