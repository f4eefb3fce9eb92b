"""Typed settings of the agent evaluation (``python -m evaluators.agents key=value ...``; ``model`` is the Hydra group
``experiments/model/<name>.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.agents.registry import DEFAULT_MAX_STEPS, DEFAULT_SPLIT, ENVS
from evaluators.agents.tasks import TASK_TYPES

ENGINES = ("auto", "hf", "vllm")
FORMATS = ("csv", "parquet")


@dataclass
class AgentEvalConfig:
    """One agent evaluation run. Defaults follow the paper's agent set-up (Sec. 4, after Wang et al. 2025 /
    verl-agent): ALFWorld's unseen split, at most 50 steps (WebShop: test goals, 15 steps), sampling temperature
    0.4 (verl-agent's validation temperature; the paper's value is lost in the copy of the text we have),
    ``<think>`` reasoning then ``<action>``."""

    defaults: list[Any] = field(default_factory=lambda: ["_self_", {"model": "smollm2-135m"}])
    env: str = "alfworld"  # alfworld | webshop | textworld (plain tw-make games)
    split: str | None = None  # null: alfworld valid_unseen, webshop test (goals 0-499), textworld test
    episodes: int | None = None  # null: every game / goal of the split once; k: the first k (see registry)
    task_types: list[str] | None = None  # ALFWorld task types to keep (null: all six)
    max_steps: int | None = None  # steps per episode; null: 50 (alfworld, textworld), 15 (webshop)
    data_dir: str | None = (
        None  # alfworld: null = $ALFWORLD_DATA, else the shipped generated set; webshop: checkout
    )
    model: dict[str, Any] = field(default_factory=dict)  # model config name (experiments/model/<name>.yaml)
    checkpoint: str | None = None  # a save_pretrained folder to evaluate instead of `model`
    method: str = "base"  # training-method label in the metrics table
    model_name: str | None = None  # model label in the metrics table (default: the model or checkpoint name)
    run_name: str | None = None  # default: <method>-<model label>
    temperature: float = 0.4
    top_p: float = 1.0
    max_new_tokens: int = 512  # per reply (one action)
    max_total_tokens: int | None = None  # prompt + all turns of an episode; null: the model's context length
    think: bool = True  # ask for <think> reasoning before the action
    seed: int = 0
    engine: str = "auto"  # auto: vllm with a GPU and vllm installed, else hf
    device: str = "auto"  # auto: cuda when torch sees a GPU, else cpu
    batch_size: int = 8  # sequences per generate call (hf)
    episodes_per_chunk: int = 8  # episodes played together and stored per step (resume granularity)
    webshop_num_products: int | None = None  # WebShop product subset (1000 for its small data); null: all
    n_boot: int = 1000
    ci: float = 0.95
    format: str = "csv"
    results_dir: str | None = None  # default: resrl.paths.results_dir()
    overwrite: bool = (
        False  # stored episodes of another model or other settings: false = refuse, true = delete them
    )
    progress: bool = True  # a progress bar over the replies of each chunk of episodes

    def __post_init__(self) -> None:
        if self.env not in ENVS:
            raise ValueError(f"env={self.env!r}; allowed: {list(ENVS)}")
        if self.task_types is not None:
            bad = [t for t in self.task_types if t not in TASK_TYPES]
            if bad:
                raise ValueError(f"task_types has unknown types {bad}; known: {list(TASK_TYPES)}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine={self.engine!r}; allowed: {list(ENGINES)}")
        if self.format not in FORMATS:
            raise ValueError(f"format={self.format!r}; allowed: {list(FORMATS)}")
        if not 0 < self.ci < 1:
            raise ValueError(f"ci must be in (0, 1), got {self.ci}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(
                f"need temperature >= 0 and 0 < top_p <= 1, got {self.temperature}, {self.top_p}"
            )
        for name in ("episodes", "max_steps", "max_total_tokens", "webshop_num_products"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1 or null, got {v}")
        for name in ("max_new_tokens", "batch_size", "episodes_per_chunk", "n_boot"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.model and not self.checkpoint:
            raise ValueError(
                "no model: select one with model=<name> (experiments/model/) or checkpoint=<folder>"
            )

    @property
    def resolved_split(self) -> str:
        return self.split or DEFAULT_SPLIT[self.env]

    @property
    def resolved_max_steps(self) -> int:
        return self.max_steps or DEFAULT_MAX_STEPS[self.env]
