"""Reward shaping: the ResRL paper's length-scaled positive reward."""

from __future__ import annotations

import torch


def length_scaled_reward(
    score: torch.Tensor, length: torch.Tensor, max_len: int = 4096, start: int = 3500, end_scale: float = 0.7
) -> torch.Tensor:
    """Scale positive scores down linearly with response length; negatives are untouched.

    score: [B] float; length: [B] int (response tokens); returns [B] float32.
    The factor is 1 up to ``start`` tokens, falls linearly to ``end_scale`` at ``max_len`` and stays
    there beyond it: ``1 - (1 - end_scale) * clamp((L - start) / (max_len - start), 0, 1)``.
    """
    if not 0 < start < max_len:
        raise ValueError(f"need 0 < start < max_len, got start={start}, max_len={max_len}")
    if not 0.0 <= end_scale <= 1.0:
        raise ValueError(f"end_scale must be in [0, 1], got {end_scale}")
    s = score.to(torch.float32)
    frac = ((length.to(torch.float32) - start) / float(max_len - start)).clamp(0.0, 1.0)
    factor = 1.0 - (1.0 - end_scale) * frac
    return torch.where(s > 0, s * factor, s)
