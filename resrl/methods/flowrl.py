"""FlowRL: trajectory balance towards the reward-weighted reference distribution (needs pi_ref and Z_phi)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.flowrl import flowrl_loss
from resrl.methods import register
from resrl.methods.base import Method, PGConfig, PolicyInputs


@dataclass
class FlowRLConfig(PGConfig):
    beta: float = 15.0  # FlowRL's reward temperature
    logz_layers: int = 3  # MLP depth of the log-partition head
    logz_lr: float = 1e-3  # own learning rate of Z_phi (not stated in the ResRL paper)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta <= 0:
            raise ValueError(f"method.beta must be > 0, got {self.beta}")
        if self.logz_layers < 1:
            raise ValueError(f"method.logz_layers must be >= 1, got {self.logz_layers}")


@register("flowrl")
class FlowRL(Method):
    Config = FlowRLConfig

    @property
    def needs_reference(self) -> bool:
        return True

    @property
    def needs_log_z(self) -> bool:
        return True

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
        )
