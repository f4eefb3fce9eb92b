"""PPO with a learned value model (Ouyang et al. 2022; the agents baseline of the paper's Table 3): the clipped
surrogate on token-level GAE advantages from a critic. It runs on the veRL backend, whose critic worker and GAE
estimator (``algorithm.adv_estimator=gae``, veRL's defaults gamma = lambda = 1, critic lr 1e-5) provide them; the
local trainer has no value model and refuses it."""

from __future__ import annotations

from dataclasses import dataclass

from resrl.methods import register
from resrl.methods.base import Method, PGConfig


@dataclass
class PPOConfig(PGConfig):
    critic_lr: float = 1e-5  # veRL's critic default
    gamma: float = 1.0  # veRL's algorithm.gamma default
    lam: float = 1.0  # veRL's algorithm.lam default (GAE lambda)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.critic_lr > 0:
            raise ValueError(f"method.critic_lr must be > 0, got {self.critic_lr}")
        for name in ("gamma", "lam"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"method.{name} must be in [0, 1], got {getattr(self, name)}")


@register("ppo")
class PPO(Method):
    """The clipped surrogate; its advantages are veRL's token-level GAE values (``PolicyInputs.advantages`` [B, T])."""

    Config = PPOConfig

    @property
    def needs_critic(self) -> bool:
        return True

    @property
    def verl_advantage(self) -> str:
        return "gae"
