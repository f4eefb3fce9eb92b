"""DAPO (Yu et al. 2025): clip-higher, dynamic sampling and soft overlong punishment.

Clip-higher (``clip_low=0.2, clip_high=0.28``) and token-level aggregation are settings of
:func:`resrl.algorithms.grpo.clipped_policy_loss`; this module holds the two DAPO-specific pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch

from resrl.algorithms.core import group_index


def soft_overlong_punishment(lengths: torch.Tensor, max_len: int, cache_len: int) -> torch.Tensor:
    """DAPO's length penalty added to the reward. lengths: [B] int; returns [B] float32.

    ``0`` for ``L <= max_len - cache_len``; ``((max_len - cache_len) - L) / cache_len`` inside the cache
    interval; ``-1`` beyond ``max_len``.
    """
    if not 0 < cache_len <= max_len:
        raise ValueError(f"need 0 < cache_len <= max_len, got cache_len={cache_len}, max_len={max_len}")
    L = lengths.to(torch.float32)
    expected = float(max_len - cache_len)
    penalty = (expected - L) / float(cache_len)
    penalty = torch.where(L <= expected, torch.zeros_like(L), penalty)
    return torch.where(L > max_len, torch.full_like(L, -1.0), penalty)


def informative_groups(rewards: torch.Tensor, group_ids: torch.Tensor, tol: float = 0.0) -> torch.Tensor:
    """Dynamic-sampling filter: True for responses whose group's rewards are not all equal.

    rewards: [B] float; group_ids: [B] int; returns [B] bool. A group is dropped when
    ``max - min <= tol`` (all correct or all wrong: zero advantage, no gradient).
    """
    dense, g = group_index(group_ids)
    r = rewards.to(torch.float32)
    hi = torch.full((g,), -torch.inf, device=r.device).scatter_reduce(0, dense, r, reduce="amax")
    lo = torch.full((g,), torch.inf, device=r.device).scatter_reduce(0, dense, r, reduce="amin")
    return ((hi - lo) > tol)[dense]


G = TypeVar("G")


@dataclass
class DynamicSamplingResult:
    groups: list  # the kept groups, at most ``num_groups``
    tries: int
    sampled_groups: int
    kept_groups: int
    filled: (
        bool  # False when ``max_tries`` ran out before the batch was full (only with on_exhausted="partial")
    )


ON_EXHAUSTED = ("raise", "partial")


class DynamicSamplingExhausted(RuntimeError):
    """DAPO's dynamic sampling ran out of generation batches before the training batch was full."""


def fill_with_informative_groups(
    sample_groups: Callable[[int], Sequence[G]],
    group_rewards: Callable[[G], Sequence[float]],
    num_groups: int,
    max_tries: int = 10,
    gen_batch: int | None = None,
    on_exhausted: str = "raise",
) -> DynamicSamplingResult:
    """DAPO's dynamic sampling, as veRL's DAPO recipe runs it (``recipe/dapo/dapo_ray_trainer.py``).

    Each round samples ``gen_batch`` fresh groups (default ``num_groups``: the recipe's ``gen_batch_size`` defaults
    to the train batch size) with ``sample_groups(k)`` and keeps those whose rewards (``group_rewards(g)``) are not
    all equal; rounds continue until ``num_groups`` are kept, and the surplus is cut. After ``max_tries`` rounds
    (the recipe's ``max_num_gen_batches``; 0 = no limit) a batch still short raises
    :class:`DynamicSamplingExhausted` (the recipe raises), or with ``on_exhausted="partial"`` is returned as it is.
    """
    if num_groups < 1 or max_tries < 0:
        raise ValueError(f"need num_groups >= 1 and max_tries >= 0, got {num_groups}, {max_tries}")
    if gen_batch is not None and gen_batch < 1:
        raise ValueError(f"gen_batch must be >= 1, got {gen_batch}")
    if on_exhausted not in ON_EXHAUSTED:
        raise ValueError(f"on_exhausted={on_exhausted!r}; valid: {', '.join(ON_EXHAUSTED)}")
    per_round = gen_batch or num_groups
    kept: list = []
    sampled = 0
    tries = 0
    while len(kept) < num_groups:
        if max_tries and tries >= max_tries:
            if on_exhausted == "raise":
                raise DynamicSamplingExhausted(
                    f"dynamic sampling kept {len(kept)} of {num_groups} groups after {tries} generation batches of "
                    f"{per_round} prompts ({sampled} groups sampled, the others all right or all wrong); raise "
                    "method.max_sampling_tries (0 = no limit) or method.gen_batch_prompts, or set "
                    "method.on_exhausted=partial"
                )
            break
        tries += 1
        batch = sample_groups(per_round)
        sampled += len(batch)
        for g in batch:
            rs = list(group_rewards(g))
            if len(rs) > 1 and max(rs) > min(rs):
                kept.append(g)
    kept = kept[:num_groups]
    return DynamicSamplingResult(kept, tries, sampled, len(kept), len(kept) >= num_groups)
