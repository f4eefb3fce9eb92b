"""ResRL: GRPO advantages, positives scaled by ``pos_scale``, negatives by projection-residual weights."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.balancing import release_micro_batch_ids, release_subgroup_ids
from resrl.algorithms.grpo import clipped_policy_loss
from resrl.algorithms.resrl import (
    POS_SAMPLINGS,
    SVD_METHODS,
    conditioning_statistics,
    residual_token_weights_and_conditioning,
    resrl_advantages,
    validate_resrl_args,
    weight_statistics,
)
from resrl.algorithms.rewards import length_scaled_reward
from resrl.methods import register
from resrl.methods.base import Method, PGConfig, PolicyInputs

GROUPINGS = ("prompt", "release_micro_batch")


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
    pos_sampling: str = "uniform"  # paper: uniform sample above max_pos_tokens (release: randperm); "even"
    # Which responses share a subspace: "prompt" (paper: the whole prompt group) or "release_micro_batch" (the
    # release: prompt group AND micro-batch of release_micro_batch sequences after veRL 0.5's length balancing over
    # release_world_size ranks, resrl.algorithms.balancing; local trainer only)
    grouping: str = "prompt"
    release_world_size: int = 8  # the release's train_command.sh: 8 GPUs
    release_micro_batch: int = 4  # ppo_micro_batch_size_per_gpu = rollout n = 4
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
        if self.pos_sampling not in POS_SAMPLINGS:
            raise ValueError(f"method.pos_sampling={self.pos_sampling!r}; valid: {', '.join(POS_SAMPLINGS)}")
        if self.grouping not in GROUPINGS:
            raise ValueError(f"method.grouping={self.grouping!r}; valid: {', '.join(GROUPINGS)}")
        for name in ("release_world_size", "release_micro_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"method.{name} must be >= 1, got {getattr(self, name)}")


@register("resrl")
class ResRL(Method):
    Config = ResRLConfig

    @property
    def captured_layers(self) -> tuple[int, ...]:
        return (self.cfg.layer,)

    def shape_rewards(self, scores: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.cfg.length_reward:
            return scores.to(torch.float32)
        c = self.cfg
        return length_scaled_reward(scores, lengths, c.length_max, c.length_start, c.length_end_scale)

    def subgroups(self, group_ids: torch.Tensor, seq_lengths: torch.Tensor) -> torch.Tensor | None:
        """``grouping="release_micro_batch"``: (prompt group, release micro-batch) ids [B]; else None."""
        c = self.cfg
        if c.grouping != "release_micro_batch":
            return None
        if len(group_ids) % c.release_world_size:
            raise ValueError(
                f"method.grouping=release_micro_batch: {len(group_ids)} responses per step cannot be "
                f"balanced over method.release_world_size={c.release_world_size} ranks"
            )
        mb = release_micro_batch_ids(seq_lengths.tolist(), c.release_world_size, c.release_micro_batch)
        return release_subgroup_ids(group_ids.cpu(), torch.tensor(mb, dtype=torch.long))

    def token_weights(self, batch: PolicyInputs) -> torch.Tensor:
        return self._weights_and_conditioning(batch)[0]

    def _weights_and_conditioning(self, batch: PolicyInputs) -> tuple[torch.Tensor, list[dict[str, float]]]:
        if batch.hidden is None:
            raise ValueError(f"ResRL needs the hidden states of layer {self.cfg.layer} in the batch")
        c = self.cfg
        groups = batch.subgroup_ids if batch.subgroup_ids is not None else batch.group_ids
        generator = None
        if batch.sample_seed is not None:
            generator = torch.Generator(device=batch.hidden.device).manual_seed(int(batch.sample_seed))
        return residual_token_weights_and_conditioning(
            batch.hidden,
            batch.response_mask,
            batch.is_positive,
            groups,
            rank=c.rank,
            max_pos_tokens=c.max_pos_tokens,
            q_low=c.q_low,
            q_high=c.q_high,
            min_weight=c.min_weight,
            svd=c.svd,
            generator=generator,
            pos_sampling=c.pos_sampling,
        )

    def token_advantages(self, batch: PolicyInputs) -> torch.Tensor:
        """``A * pos_scale`` on positive responses, ``A * w`` (projection-residual weights) on negative ones."""
        return resrl_advantages(
            batch.advantages, self.token_weights(batch), batch.is_positive, self.cfg.pos_scale
        )

    def loss(self, batch: PolicyInputs) -> tuple[torch.Tensor, dict[str, float]]:
        weights, conditioning = self._weights_and_conditioning(batch)
        adv = resrl_advantages(batch.advantages, weights, batch.is_positive, self.cfg.pos_scale)
        loss, metrics = clipped_policy_loss(
            batch.log_probs,
            batch.old_log_probs,
            adv,
            batch.response_mask,
            self.cfg.policy_loss(),
            ref_log_probs=batch.ref_log_probs,
            entropy=batch.entropy,
        )
        metrics.update(
            weight_statistics(weights, batch.response_mask, batch.is_positive, self.cfg.min_weight)
        )
        metrics.update(conditioning_statistics(conditioning))
        return loss, metrics
