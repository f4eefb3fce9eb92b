"""EMPG (Wang et al. 2025): GRPO's outcome advantages modulated per step by the step's entropy
(:mod:`resrl.algorithms.empg`). For multi-turn episodes; on single-turn data every response is one step."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.empg import empg_token_advantages
from resrl.methods import register
from resrl.methods.base import Method, PGConfig, PolicyInputs


@dataclass
class EMPGConfig(PGConfig):
    k: float = 1.0  # g(H) = exp(-k Hn) / mean (the authors' pseudocode default)
    k_f: float = 1.0  # f(H) = exp(-k_f Hn)
    zeta: float = 0.1  # weight of the future clarity bonus (the authors' pseudocode default)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("k", "k_f", "zeta"):
            if getattr(self, name) < 0:
                raise ValueError(f"method.{name} must be >= 0, got {getattr(self, name)}")


@register("empg")
class EMPG(Method):
    """The clipped surrogate on EMPG's step-modulated token advantages."""

    Config = EMPGConfig

    @property
    def needs_entropy(self) -> bool:
        return True

    def token_advantages(self, batch: PolicyInputs) -> torch.Tensor:
        if batch.entropy is None:
            raise ValueError("EMPG needs the token entropies of the forward (PolicyInputs.entropy)")
        return empg_token_advantages(
            batch.advantages, batch.entropy, batch.response_mask, self.cfg.k, self.cfg.k_f, self.cfg.zeta
        )
