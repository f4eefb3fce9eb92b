"""Masked reductions and the one loss-aggregation helper every policy loss reduces through.

Aggregation modes (as named in veRL):
- ``token-mean``: sum of token losses over all valid tokens of the batch / number of valid tokens
  (DAPO's token-level loss; veRL's default).
- ``seq-mean-token-sum``: per sequence, the sum over its tokens; then the mean over sequences.
- ``seq-mean-token-mean``: per sequence, the mean over its tokens; then the mean over sequences
  (the GRPO paper's ``1/G sum_i 1/|o_i| sum_t``).
Sequences without any valid token are left out of the ``seq-mean-*`` means.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

AGG_MODES = ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean")


def masked_sum(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Sum of ``values`` where ``mask`` is true. values, mask: same shape; float result."""
    m = mask.to(values.dtype)
    return (values * m).sum() if dim is None else (values * m).sum(dim=dim)


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean of ``values`` where ``mask`` is true (0 where a slice has no valid entry)."""
    m = mask.to(values.dtype)
    count = m.sum() if dim is None else m.sum(dim=dim)
    return masked_sum(values, mask, dim) / count.clamp_min(1.0)


def agg_loss(loss_mat: torch.Tensor, mask: torch.Tensor, mode: str = "token-mean") -> torch.Tensor:
    """Reduce token losses to a scalar. loss_mat: [B, T] float; mask: [B, T] bool/0-1; returns []."""
    m = mask.to(loss_mat.dtype)
    if mode == "token-mean":
        return (loss_mat * m).sum() / m.sum().clamp_min(1.0)
    tokens_per_seq = m.sum(dim=-1)  # [B]
    has_tokens = tokens_per_seq > 0
    seq_sum = (loss_mat * m).sum(dim=-1)  # [B]
    if mode == "seq-mean-token-sum":
        per_seq = seq_sum
    elif mode == "seq-mean-token-mean":
        per_seq = seq_sum / tokens_per_seq.clamp_min(1.0)
    else:
        raise ValueError(f"unknown loss_agg_mode {mode!r}; valid: {', '.join(AGG_MODES)}")
    n = has_tokens.to(loss_mat.dtype).sum()
    return (per_seq * has_tokens.to(loss_mat.dtype)).sum() / n.clamp_min(1.0)


def group_index(group_ids: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Map arbitrary group ids [B] (int) to dense indices [B] in [0, G) and return (dense, G)."""
    uniq, dense = torch.unique(group_ids, return_inverse=True)
    return dense, int(uniq.numel())


@contextmanager
def autocast_off(device: torch.device | str) -> Iterator[None]:
    """Disable autocast for ``device``'s type inside the block, so float32 inputs stay float32.

    veRL runs the actor loss inside its FSDP engine's bf16 autocast; the ResRL subspace fit and FlowRL's
    ``log Z`` head must not silently drop to bf16 there. Device types without autocast (``meta``) pass through.
    """
    kind = torch.device(device).type
    if torch.amp.is_autocast_available(kind):
        with torch.autocast(device_type=kind, enabled=False):
            yield
    else:
        yield
