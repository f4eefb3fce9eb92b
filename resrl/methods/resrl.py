"""ResRL: GRPO advantages, positives scaled by ``pos_scale``, negatives by projection-residual weights."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.grpo import clipped_policy_loss
from resrl.algorithms.resrl import (
    SVD_METHODS,
    residual_token_weights,
    resrl_advantages,
    validate_resrl_args,
    weight_statistics,
)
from resrl.algorithms.rewards import length_scaled_reward
from resrl.methods import register
from resrl.methods.base import Method, PGConfig, PolicyInputs


@dataclass
class ResRLConfig(PGConfig):
    rank: int = 64  # rank of the positive subspace (paper default)
    max_pos_tokens: int = 4096  # positive tokens sampled per group for the SVD
    q_low: float = 0.2  # group quantiles of the residual energy used for min-max normalisation
    q_high: float = 0.8
    min_weight: float = 0.1  # weight of negative tokens inside the positive subspace
    pos_scale: float = 0.1  # weak anchoring of positive samples (following NSR's lambda)
    layer: int = -2  # hidden_states index: the penultimate layer
    svd: str = "randomized"
    length_reward: bool = True  # length-scaled positive reward
    length_max: int = 4096
    length_start: int = 3500
    length_end_scale: float = 0.7

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            validate_resrl_args(self.rank, self.max_pos_tokens, self.q_low, self.q_high, self.min_weight)
        except ValueError as err:
            raise ValueError(f"method.{err}") from None
        if self.svd not in SVD_METHODS:
            raise ValueError(f"method.svd={self.svd!r}; valid: {', '.join(SVD_METHODS)}")
        if self.pos_scale < 0:
            raise ValueError(f"method.pos_scale must be >= 0, got {self.pos_scale}")


@register("resrl")
class ResRL(Method):
    Config = ResRLConfig

    @property
    def hidden_layer(self) -> int | None:
        return self.cfg.layer

    def shape_rewards(self, scores: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.cfg.length_reward:
            return scores.to(torch.float32)
        c = self.cfg
        return length_scaled_reward(scores, lengths, c.length_max, c.length_start, c.length_end_scale)

    def token_weights(self, batch: PolicyInputs) -> torch.Tensor:
        if batch.hidden is None:
            raise ValueError(f"ResRL needs the hidden states of layer {self.cfg.layer} in the batch")
        c = self.cfg
        return residual_token_weights(
            batch.hidden, batch.response_mask, batch.is_positive, batch.group_ids,
            rank=c.rank, max_pos_tokens=c.max_pos_tokens, q_low=c.q_low, q_high=c.q_high,
            min_weight=c.min_weight, svd=c.svd,
        )

    def loss(self, batch: PolicyInputs) -> tuple[torch.Tensor, dict[str, float]]:
        weights = self.token_weights(batch)
        adv = resrl_advantages(batch.advantages, weights, batch.is_positive, self.cfg.pos_scale)
        loss, metrics = clipped_policy_loss(
            batch.log_probs, batch.old_log_probs, adv, batch.response_mask, self.cfg.policy_loss(),
            ref_log_probs=batch.ref_log_probs, entropy=batch.entropy,
        )
        metrics.update(weight_statistics(weights, batch.response_mask, batch.is_positive, self.cfg.min_weight))
        return loss, metrics
