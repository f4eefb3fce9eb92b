"""NSR and W-REINFORCE (Zhu et al. 2025a, "The Surprising Effectiveness of Negative Reinforcement in
LLM Reasoning").

With rewards in {+1, -1}, the RLVR objective splits into positive-sample reinforcement (PSR) and
negative-sample reinforcement (NSR). W-REINFORCE weights the PSR term by ``lambda`` (0.1 in that paper):
``L = lambda * L_PSR + L_NSR``; ``lambda = 0`` is pure NSR, ``lambda = 1`` plain REINFORCE with +-1
rewards. There is no baseline and no std normalisation.
"""

from __future__ import annotations

import torch


def weighted_reinforce_advantages(is_positive: torch.Tensor, pos_weight: float = 0.1) -> torch.Tensor:
    """Sequence advantages: ``+pos_weight`` for correct responses, ``-1`` for incorrect ones.

    is_positive: [B] bool; returns [B] float32.
    """
    if pos_weight < 0:
        raise ValueError(f"pos_weight (lambda) must be >= 0, got {pos_weight}")
    pos = is_positive.bool()
    return torch.where(
        pos,
        torch.full(pos.shape, float(pos_weight), device=pos.device),
        torch.full(pos.shape, -1.0, device=pos.device),
    )
