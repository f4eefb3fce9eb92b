"""Typed trainer settings. Defaults are the paper's (veRL runs of Sec. 4); the CPU profile
(``experiments/trainer/cpu.yaml``) scales them down in config only."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from resrl.config_types import check_field_types

VLLM_REFUSED = (
    "trainer.rollout_engine='vllm' is not supported by the local trainer (its vLLM engine would keep sampling from "
    "the initial weights: there is no weight sync); train with vLLM rollouts on GPUs through the veRL backend, "
    "python -m resrl.backends.verl.launch method=... model=... (docs/cluster.md), or use trainer.rollout_engine=hf"
)


@dataclass
class TrainerConfig:
    steps: int = 100  # training steps (paper: trained to convergence under a fixed budget)
    prompts_per_step: int = 256  # paper: batch 256 prompts
    n: int = 4  # responses per prompt (paper: rollout n = 4)
    mini_batch_prompts: int = 64  # paper: mini-batch 64 prompts; micro-batch = one prompt group
    ppo_epochs: int = 1
    lr: float = 1e-6  # paper: 1e-6
    warmup_steps: int = 10  # paper: 10 warm-up steps (linear), constant afterwards
    weight_decay: float = 0.1  # paper: 0.1
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0  # veRL's default max grad norm
    temperature: float = 0.6  # paper: rollout temperature 0.6, top_p 1.0
    top_p: float = 1.0
    max_new_tokens: int = 4096  # paper (math): 4096-token response budget
    max_prompt_tokens: int = 2048
    rollout_engine: str = "hf"  # the local trainer samples with transformers ("hf"); GPU training: the veRL backend
    rollout_batch_size: int = 8  # sequences per generate call (hf engine)
    recompute_old_logprobs: bool = True  # recompute pi_old with the training forward (as veRL) vs sampler log-probs
    gradient_checkpointing: bool = False
    save_every: int = 50  # checkpoint every N steps (and at the end)
    keep_checkpoints: int = 2
    log_every: int = 1
    eval_every: int = 0  # held-out evaluation every N steps (0: only before and after training)
    eval_problems: int = 64
    eval_n: int = 4
    eval_max_new_tokens: int | None = None  # None: same as max_new_tokens
    seed: int = 0
    device: str = "cpu"
    resume: bool = True  # pick up the newest valid checkpoint in the run directory

    def __post_init__(self) -> None:
        if isinstance(self.betas, list):
            self.betas = tuple(self.betas)
        check_field_types(self, "trainer.")
        positive = ("steps", "prompts_per_step", "n", "mini_batch_prompts", "ppo_epochs", "max_new_tokens",
                    "max_prompt_tokens", "rollout_batch_size", "save_every", "keep_checkpoints", "log_every",
                    "eval_problems", "eval_n")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"trainer.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "eval_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"trainer.{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"trainer.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or self.grad_clip <= 0:
            raise ValueError(f"trainer.weight_decay must be >= 0 and trainer.grad_clip > 0, got {self.weight_decay}, {self.grad_clip}")
        if self.mini_batch_prompts > self.prompts_per_step or self.prompts_per_step % self.mini_batch_prompts:
            raise ValueError(
                f"trainer.mini_batch_prompts ({self.mini_batch_prompts}) must divide trainer.prompts_per_step ({self.prompts_per_step})"
            )
        if not 0 < self.top_p <= 1 or self.temperature <= 0:
            raise ValueError(f"trainer.temperature must be > 0 and trainer.top_p in (0, 1], got {self.temperature}, {self.top_p}")
        if self.rollout_engine == "vllm":
            raise ValueError(VLLM_REFUSED)
        if self.rollout_engine != "hf":
            raise ValueError(f"trainer.rollout_engine={self.rollout_engine!r}; valid: hf")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> TrainerConfig:
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - valid)
        if unknown:
            raise ValueError(f"unknown trainer field(s) {unknown}; valid: {', '.join(sorted(valid))}")
        return cls(**values)
