"""NSR (pure negative-sample reinforcement) and W-REINFORCE (Zhu et al. 2025a)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.nsr import weighted_reinforce_advantages
from resrl.methods import register
from resrl.methods.base import Method, PGConfig


@dataclass
class WReinforceConfig(PGConfig):
    pos_weight: float = 0.1  # lambda of W-REINFORCE (Zhu et al. 2025a recommend 0.1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pos_weight < 0:
            raise ValueError(f"method.pos_weight must be >= 0, got {self.pos_weight}")


@dataclass
class NSRConfig(WReinforceConfig):
    pos_weight: float = 0.0  # pure NSR: only negative samples contribute


@register("w_reinforce")
class WReinforce(Method):
    """``lambda * L_PSR + L_NSR`` with +-1 rewards, no baseline, no std normalisation."""

    Config = WReinforceConfig

    @property
    def verl_advantage(self) -> str:
        return "w_reinforce"

    def sequence_advantages(
        self, rewards: torch.Tensor, is_positive: torch.Tensor, group_ids: torch.Tensor
    ) -> torch.Tensor:
        return weighted_reinforce_advantages(is_positive, self.cfg.pos_weight)


@register("nsr")
class NSR(WReinforce):
    Config = NSRConfig
