"""Typed trainer settings. Defaults are the paper's (veRL runs of Sec. 4); the CPU profile
(``experiments/trainer/cpu.yaml``) scales them down in config only."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from resrl.config_types import check_field_types

VLLM_REFUSED = (
    "trainer.rollout_engine='vllm' is not supported by the local trainer (its vLLM engine would keep sampling from "
    "the initial weights: there is no weight sync); train with vLLM rollouts on GPUs through the veRL backend, "
    "python -m resrl.backends.verl.launch method=... model=... (docs/cluster.md), or use trainer.rollout_engine=hf"
)


def warmup_factor(step: int, warmup_steps: int, from_zero: bool = True) -> float:
    """Learning-rate multiplier at scheduler step ``step`` (0-based; one scheduler step per training step).

    ``from_zero`` (the release, veRL's ``get_constant_schedule_with_warmup``): ``step / warmup`` below ``warmup``,
    so the first training step runs at lr 0; else ``(step + 1) / warmup``. 1 afterwards, and always 1 without
    warm-up.
    """
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, (step if from_zero else step + 1) / warmup_steps)


LOSS_AGGREGATIONS = ("micro_batch_mean", "global_token_mean")
LONG_PROMPTS = ("truncate_left", "skip")


def micro_batch_scales(masks: list, aggregation: str, loss_agg_mode: str) -> list[float]:
    """Factors on each micro-batch's loss in one mini-batch (masks: [B_i, T_i] response masks).

    ``micro_batch_mean`` (the release: veRL 0.5 divides each micro-batch loss by the number of micro-batches):
    ``1 / M``. ``global_token_mean`` (veRL 0.9.1): each micro-batch's mean weighted by its share of the mini-batch's
    valid tokens (``token-mean``) or sequences (``seq-mean-*``), so the sum is the mean over the whole mini-batch.
    """
    if aggregation == "micro_batch_mean":
        return [1.0 / len(masks)] * len(masks)
    if aggregation != "global_token_mean":
        raise ValueError(f"trainer.loss_aggregation={aggregation!r}; valid: {', '.join(LOSS_AGGREGATIONS)}")
    if loss_agg_mode == "token-mean":
        sizes = [float(m.bool().sum()) for m in masks]
    else:
        sizes = [float((m.bool().sum(-1) > 0).sum()) for m in masks]
    total = sum(sizes)
    return [s / total if total > 0 else 1.0 / len(masks) for s in sizes]


@dataclass
class TrainerConfig:
    steps: int = 100  # training steps (paper: trained to convergence under a fixed budget)
    prompts_per_step: int = 256  # paper: batch 256 prompts
    n: int = 4  # responses per prompt (paper: rollout n = 4)
    mini_batch_prompts: int = 64  # paper: mini-batch 64 prompts; micro-batch = one prompt group
    ppo_epochs: int = 1
    lr: float = 1e-6  # paper: 1e-6
    warmup_steps: int = 10  # paper: 10 warm-up steps (linear), constant afterwards
    warmup_from_zero: bool = (
        True  # release (veRL's constant-with-warm-up): lr * step / warmup, 0 at the first step;
    )
    # false: lr * (step + 1) / warmup (reaches lr at step warmup - 1)
    weight_decay: float = 0.1  # paper: 0.1
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0  # veRL's default max grad norm
    # how micro-batch losses combine in a mini-batch (a micro-batch is one prompt group): the release averages the
    # micro-batch means ("micro_batch_mean"); veRL 0.9.1, our veRL backend, takes one mean over the mini-batch's
    # tokens ("global_token_mean")
    loss_aggregation: str = "micro_batch_mean"
    temperature: float = 1.0  # training rollouts (and the log-prob temperature): release, veRL's default 1.0
    top_p: float = 1.0
    eval_temperature: float = 0.6  # held-out evaluation: the release's validation temperature (val_kwargs)
    eval_top_p: float = 1.0
    max_new_tokens: int = 4096  # paper (math): 4096-token response budget
    max_prompt_tokens: int = 2048
    # prompts over max_prompt_tokens: "truncate_left" keeps the last max_prompt_tokens tokens (the release:
    # data.truncation=left, no filtering), "skip" leaves the problem out (counted)
    long_prompts: str = "truncate_left"
    rollout_engine: str = (
        "hf"  # the local trainer samples with transformers ("hf"); GPU training: the veRL backend
    )
    rollout_batch_size: int = 8  # sequences per generate call (hf engine)
    recompute_old_logprobs: bool = (
        True  # recompute pi_old with the training forward (as veRL) vs sampler log-probs
    )
    gradient_checkpointing: bool = False
    save_every: int = 50  # checkpoint every N steps (and at the end)
    keep_checkpoints: int = 2  # newest kept checkpoints; the optimizer state only in the newest (disk)
    full_fallback_checkpoints: bool = (
        False  # true: every kept checkpoint keeps its optimizer state (exact fallback)
    )
    clean_checkpoints_when_done: bool = False  # delete checkpoints/ once final_model/ is exported (disk)
    eval_every: int = 0  # held-out evaluation every N steps (0: only before and after training)
    eval_problems: int = 64
    eval_n: int = 4
    eval_max_new_tokens: int | None = None  # None: same as max_new_tokens
    seed: int = 0
    device: str = "cpu"
    resume: bool = True  # pick up the newest valid checkpoint in the run directory
    # experiment trackers, as veRL's trainer.logger (resrl/trainer/trackers.py): console, tensorboard, wandb
    logger: list[str] = field(default_factory=lambda: ["console", "tensorboard"])
    project_name: str = "resrl"  # the W&B project (veRL: trainer.project_name)

    def __post_init__(self) -> None:
        if isinstance(self.betas, list):
            self.betas = tuple(self.betas)
        check_field_types(self, "trainer.")
        positive = (
            "steps",
            "prompts_per_step",
            "n",
            "mini_batch_prompts",
            "ppo_epochs",
            "max_new_tokens",
            "max_prompt_tokens",
            "rollout_batch_size",
            "save_every",
            "keep_checkpoints",
            "eval_problems",
            "eval_n",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"trainer.{name} must be >= 1, got {getattr(self, name)}")
        from resrl.trainer.trackers import check_trackers

        self.logger = check_trackers(self.logger)
        for name in ("warmup_steps", "eval_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"trainer.{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"trainer.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or self.grad_clip <= 0:
            raise ValueError(
                f"trainer.weight_decay must be >= 0 and trainer.grad_clip > 0, got {self.weight_decay}, {self.grad_clip}"
            )
        if self.mini_batch_prompts > self.prompts_per_step or self.prompts_per_step % self.mini_batch_prompts:
            raise ValueError(
                f"trainer.mini_batch_prompts ({self.mini_batch_prompts}) must divide trainer.prompts_per_step ({self.prompts_per_step})"
            )
        for t, p in (("", ""), ("eval_", "eval_")):
            temp, top_p = getattr(self, f"{t}temperature"), getattr(self, f"{p}top_p")
            if not 0 < top_p <= 1 or temp <= 0:
                raise ValueError(
                    f"trainer.{t}temperature must be > 0 and trainer.{p}top_p in (0, 1], got {temp}, {top_p}"
                )
        if self.long_prompts not in LONG_PROMPTS:
            raise ValueError(f"trainer.long_prompts={self.long_prompts!r}; valid: {', '.join(LONG_PROMPTS)}")
        if self.loss_aggregation not in LOSS_AGGREGATIONS:
            raise ValueError(
                f"trainer.loss_aggregation={self.loss_aggregation!r}; valid: {', '.join(LOSS_AGGREGATIONS)}"
            )
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
