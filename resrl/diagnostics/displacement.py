"""Likelihood displacement across one update, and Lazy Likelihood Displacement (LLD).

For a prompt group with positive (verifier-accepted) responses ``y+``, the displacement of the group is the
change, across one training update, of the mean over its positive responses of the per-token mean
log-likelihood ``(1/|y|) sum_t log pi(y_t | x, y_<t)`` (at the sampling temperature, as in training).
LLD (Deng et al. 2025; Sec. 3.1 of the ResRL paper) is the failure to raise it: a group shows LLD when its
displacement is ``<= 0``. The same change is also reported for negative responses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from resrl.algorithms.core import group_index, masked_mean
from resrl.trainer.policy_forward import policy_forward


def mean_token_loglik(log_probs: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """Per-response mean token log-likelihood. log_probs: [B, T] float; response_mask: [B, T]; returns [B] float32."""
    return masked_mean(log_probs.to(torch.float32), response_mask.bool(), dim=-1)


@torch.no_grad()
def response_loglik(model: nn.Module, batch: Mapping[str, Any], temperature: float) -> torch.Tensor:
    """Mean token log-likelihood of each response of a collated batch under ``model`` (no gradient).

    batch: ``input_ids``, ``attention_mask`` [B, P+T], ``prompt_len`` int, ``response_mask`` [B, T]; returns [B].
    """
    out = policy_forward(
        model, batch["input_ids"], batch["attention_mask"], int(batch["prompt_len"]), temperature
    )
    return mean_token_loglik(out.log_probs, batch["response_mask"])


@dataclass
class Displacement:
    """Result of :func:`likelihood_displacement`.

    group_delta_pos / group_delta_neg: [G] float32, NaN for groups without positive / negative responses.
    lld_fraction: share of groups with positives whose ``group_delta_pos <= 0`` (NaN when no such group);
    response_lld_fraction: the same over individual positive responses.
    """

    group_delta_pos: torch.Tensor
    group_delta_neg: torch.Tensor
    lld_fraction: float
    response_lld_fraction: float

    def metrics(self, prefix: str = "diag/lld/") -> dict[str, float]:
        pos = self.group_delta_pos[~self.group_delta_pos.isnan()]
        neg = self.group_delta_neg[~self.group_delta_neg.isnan()]
        return {
            f"{prefix}delta_pos": float(pos.mean()) if pos.numel() else math.nan,
            f"{prefix}delta_neg": float(neg.mean()) if neg.numel() else math.nan,
            f"{prefix}frac_groups": self.lld_fraction,
            f"{prefix}frac_responses": self.response_lld_fraction,
            f"{prefix}groups": float(pos.numel()),
        }


def likelihood_displacement(
    before: torch.Tensor, after: torch.Tensor, is_positive: torch.Tensor, group_ids: torch.Tensor
) -> Displacement:
    """Per-group change of the positive (and negative) responses' mean log-likelihood across an update.

    before, after: [B] float (e.g. from :func:`response_loglik`); is_positive: [B] bool; group_ids: [B] int.
    """
    if not before.shape == after.shape == is_positive.shape == group_ids.shape or before.dim() != 1:
        raise ValueError(
            f"before, after, is_positive, group_ids must all be [B]; got {tuple(before.shape)}, "
            f"{tuple(after.shape)}, {tuple(is_positive.shape)}, {tuple(group_ids.shape)}"
        )
    delta = after.to(torch.float32) - before.to(torch.float32)
    pos = is_positive.bool()
    dense, num_groups = group_index(group_ids)
    out_pos = torch.full((num_groups,), math.nan, device=delta.device)
    out_neg = torch.full((num_groups,), math.nan, device=delta.device)
    for g in range(num_groups):
        members = dense == g
        if (members & pos).any():
            out_pos[g] = delta[members & pos].mean()
        if (members & ~pos).any():
            out_neg[g] = delta[members & ~pos].mean()
    has_pos = ~out_pos.isnan()
    lld = float((out_pos[has_pos] <= 0).float().mean()) if has_pos.any() else math.nan
    resp = float((delta[pos] <= 0).float().mean()) if pos.any() else math.nan
    return Displacement(out_pos, out_neg, lld, resp)
