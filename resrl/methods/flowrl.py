"""FlowRL: trajectory balance towards the reward-weighted reference distribution (needs pi_ref and Z_phi)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.flowrl import IS_WEIGHTS, PROMPT_REPRS, LogZHead, flowrl_loss
from resrl.methods import register
from resrl.methods.base import Method, PGConfig, PolicyInputs


@dataclass
class FlowRLConfig(PGConfig):
    beta: float = 15.0  # FlowRL's reward temperature (its code multiplies the advantage by 15)
    logz_layers: int = 3  # MLP depth of the log-partition head (FlowRL's porj_layer=3)
    logz_dropout: float = 0.1  # FlowRL's ProjZModule dropout
    # FlowRL's code puts proj_z in the actor's AdamW (same lr, weight decay, warm-up, clipping): null. A number
    # gives the head its own learning rate (and no weight decay).
    logz_lr: float | None = None
    is_weight: str = "unclipped"  # FlowRL's code: unclipped sequence ratio; "clip": the FlowRL paper's clip
    prompt_repr: str = "exclude_last"  # FlowRL's code: prompt mean without its last token; "all": every token

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta <= 0:
            raise ValueError(f"method.beta must be > 0, got {self.beta}")
        if self.logz_layers < 1:
            raise ValueError(f"method.logz_layers must be >= 1, got {self.logz_layers}")
        if not 0.0 <= self.logz_dropout < 1.0:
            raise ValueError(f"method.logz_dropout must be in [0, 1), got {self.logz_dropout}")
        if self.logz_lr is not None and self.logz_lr <= 0:
            raise ValueError(f"method.logz_lr must be > 0 or null (the actor's), got {self.logz_lr}")
        if self.is_weight not in IS_WEIGHTS:
            raise ValueError(f"method.is_weight={self.is_weight!r}; valid: {', '.join(IS_WEIGHTS)}")
        if self.prompt_repr not in PROMPT_REPRS:
            raise ValueError(f"method.prompt_repr={self.prompt_repr!r}; valid: {', '.join(PROMPT_REPRS)}")


@register("flowrl")
class FlowRL(Method):
    Config = FlowRLConfig

    @property
    def needs_reference(self) -> bool:
        return True

    @property
    def prompt_repr(self) -> str | None:
        return self.cfg.prompt_repr

    @property
    def aggregation_mode(self) -> str:
        return "seq-mean-token-mean"  # trajectory balance: one squared residual per response, averaged

    def build_modules(self, hidden_size: int) -> dict[str, torch.nn.Module]:
        """FlowRL's log-partition head ``log Z_phi`` on the prompt representation."""
        return {"log_z": LogZHead(hidden_size, self.cfg.logz_layers, self.cfg.logz_dropout)}

    def module_param_groups(self, modules: dict[str, torch.nn.Module]) -> list[dict]:
        """FlowRL's code: in the actor's optimiser (no lr of its own); ``logz_lr`` gives it its own group."""
        params = list(modules["log_z"].parameters())
        if self.cfg.logz_lr is None:
            return [{"params": params}]
        return [{"params": params, "lr": self.cfg.logz_lr, "weight_decay": 0.0}]

    def module_inputs(self, modules: dict[str, torch.nn.Module], prompt_repr: torch.Tensor | None) -> dict:
        if prompt_repr is None:
            raise ValueError("FlowRL needs the prompt representation")
        return {"log_z": modules["log_z"](prompt_repr)}

    def loss(self, batch: PolicyInputs) -> tuple[torch.Tensor, dict[str, float]]:
        if batch.ref_log_probs is None or batch.log_z is None:
            raise ValueError("FlowRL needs ref_log_probs and log_z in the batch")
        return flowrl_loss(
            batch.log_probs,
            batch.old_log_probs,
            batch.ref_log_probs,
            batch.log_z,
            batch.advantages,
            batch.response_mask,
            beta=self.cfg.beta,
            clip_low=self.cfg.clip_low,
            clip_high=self.cfg.clip_high,
            is_weight=self.cfg.is_weight,
        )
