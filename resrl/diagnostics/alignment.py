"""Representation alignment of negative tokens with a group's positive subspace (the proxy of Theorem 1).

The preprocessing and subspace are ResRL's (:mod:`resrl.algorithms.resrl`): positive tokens (at most
``max_pos_tokens``, evenly spaced, as ``residual_token_weights(..., pos_sampling="even")`` picks them) are
LayerNorm'd (no affine) and centred on their mean ``mu``; ``V`` [H, k] holds the top ``k = min(rank, M-1, H)``
right singular vectors. For a negative token ``c = LN(h) - mu``:

- ``cos``: the largest cosine between ``c`` and any vector of ``span(V)``, ``||V V^T c|| / ||c||``;
- ``in_subspace``: ``1 - ||c - V V^T c||^2 / ||c||^2`` (= ``cos^2``; 1 minus the residual energy fraction);
- ``nn_cos``: the largest cosine between ``c`` and one of the (centred) positive tokens;
- ``energy``: ResRL's orthogonal-complement energy ``||c - V V^T c||^2 / H`` and ``weight`` its gated weight.

Conditioning of the positive subspace (:func:`subspace_conditioning`, the paper's open question whether it stays
well-conditioned at scale), from all singular values ``s_1 >= s_2 >= ...`` of the centred positive tokens:
``energy_at_k`` = ``sum_{i<=k} s_i^2 / sum_i s_i^2`` (the share of the positive tokens' energy the rank-k subspace
holds), ``effective_rank`` = ``exp(H(p))`` with ``p_i = s_i^2 / sum s^2`` (Roy & Vetterli, 2007) and ``gap_at_k`` =
``s_k / s_{k+1}`` (how sharply the subspace is defined), and ``spans_all`` = 1 when ``k >= M - 1``: the subspace then
holds every centred positive token (their rank is at most ``M - 1``), ``energy_at_k`` is 1 and the gap undefined
(NaN), which is what a small group with fewer than ``rank + 1`` positive tokens gives.

ResRL should give aligned tokens small weights: the correlation of ``cos`` with ``weight`` is expected to be
negative (not exactly -1: the weight ranks the un-normalised residual energy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from resrl.algorithms.resrl import (
    quantile_gate,
    residual_energy,
    spectrum_conditioning,
    top_right_singular_vectors,
)


@dataclass
class PositiveSubspace:
    centroid: torch.Tensor  # [H] float32: mean of the LayerNorm'd positive tokens
    basis: torch.Tensor  # [H, k] float32, orthonormal columns
    centred_pos: torch.Tensor  # [M, H] float32: the (sampled) centred positive tokens


def positive_subspace(
    pos_hidden: torch.Tensor, rank: int, max_pos_tokens: int = 4096, svd: str = "randomized", niter: int = 4
) -> PositiveSubspace | None:
    """ResRL's positive subspace of one group. pos_hidden: [M, H] any float. None when ``k < 1``."""
    h = pos_hidden.detach().to(torch.float32)
    m, width = h.shape
    if m > max_pos_tokens:  # same rows as residual_token_weights(..., pos_sampling="even")
        h = h[torch.linspace(0, m - 1, steps=max_pos_tokens, device=h.device).round().long()]
        m = max_pos_tokens
    k = min(rank, m - 1, width)
    if k < 1:
        return None
    normed = F.layer_norm(h, (width,))
    centroid = normed.mean(dim=0)
    centred = normed - centroid
    return PositiveSubspace(centroid, top_right_singular_vectors(centred, k, svd, None, niter), centred)


def subspace_conditioning(centred: torch.Tensor, k: int) -> dict[str, float]:
    """``energy_at_k``, ``effective_rank``, ``gap_at_k`` and ``spans_all`` (module docstring) of centred positive
    tokens centred: [M, H] float32 at rank ``k >= 1``. NaN (``spans_all`` too) when the tokens have no energy."""
    s = torch.linalg.svdvals(centred.detach().to(torch.float32)).double()  # [min(M, H)], descending
    energy = s.pow(2)
    total = float(energy.sum())
    if total <= 0.0:
        return dict.fromkeys(("energy_at_k", "effective_rank", "gap_at_k", "spans_all"), math.nan)
    p = energy / total
    nz = p[p > 0]
    effective_rank = math.exp(float(-(nz * nz.log()).sum()))
    # the same energy, gap and spans_all as ResRL's own SVD reports (from the full spectrum here)
    return {"effective_rank": effective_rank, **spectrum_conditioning(s, total, k, centred.shape[0])}


@dataclass
class NegativeAlignment:
    """Per negative token, each [N] float32 (see the module docstring)."""

    cos: torch.Tensor
    in_subspace: torch.Tensor
    nn_cos: torch.Tensor
    energy: torch.Tensor


def negative_alignment(space: PositiveSubspace, neg_hidden: torch.Tensor) -> NegativeAlignment:
    """Alignment of negative tokens with a positive subspace. neg_hidden: [N, H] any float (raw hidden states)."""
    h = neg_hidden.detach().to(torch.float32)
    c = F.layer_norm(h, (h.shape[-1],)) - space.centroid  # [N, H]
    sq = c.pow(2).sum(-1)
    energy = residual_energy(c, space.basis)  # ||r||^2 / H
    safe = sq.clamp_min(torch.finfo(torch.float32).tiny)
    in_sub = torch.where(sq > 0, (1.0 - energy * h.shape[-1] / safe).clamp(0.0, 1.0), torch.ones_like(sq))
    cos = in_sub.sqrt()
    pos_norm = space.centred_pos.norm(dim=-1).clamp_min(torch.finfo(torch.float32).tiny)
    nn_cos = ((c @ space.centred_pos.T) / (safe.sqrt()[:, None] * pos_norm[None, :])).max(dim=1).values
    return NegativeAlignment(cos, in_sub, nn_cos, energy)


def _rank_average_ties(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``; tied values share the mean of their ranks."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    xs = x[order]
    start = 0
    while start < len(x):
        end = start
        while end + 1 < len(x) and xs[end + 1] == xs[start]:
            end += 1
        ranks[order[start : end + 1]] = 0.5 * (start + end) + 1.0
        start = end + 1
    return ranks


def pearson(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Pearson correlation of two [N] vectors; NaN when N < 2 or either is constant."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"x and y must be [N] of the same length; got {a.shape}, {b.shape}")
    if len(a) < 2:
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else math.nan


def spearman(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Spearman rank correlation (Pearson on tie-averaged ranks); NaN when undefined."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"x and y must be [N] of the same length; got {a.shape}, {b.shape}")
    return pearson(_rank_average_ties(a), _rank_average_ties(b))


@dataclass
class GroupAlignment:
    """Alignment of one group: per-token values, the ResRL weights [N] of the negative tokens, and a summary."""

    tokens: NegativeAlignment
    weights: torch.Tensor
    rank: int
    conditioning: dict[str, float]  # subspace_conditioning of the group's positive tokens at its rank

    def summary(self) -> dict[str, float]:
        """Means of ``cos``, ``in_subspace``, ``nn_cos``, ``energy`` and the weights; Spearman / Pearson of ``cos``
        with the weights (expected negative); the subspace rank."""
        t = self.tokens
        return {
            "cos": float(t.cos.mean()),
            "in_subspace": float(t.in_subspace.mean()),
            "nn_cos": float(t.nn_cos.mean()),
            "energy": float(t.energy.mean()),
            "weight": float(self.weights.mean()),
            "spearman_cos_weight": spearman(t.cos, self.weights),
            "pearson_cos_weight": pearson(t.cos, self.weights),
            "rank": float(self.rank),
        }


def group_alignment(
    pos_hidden: torch.Tensor,
    neg_hidden: torch.Tensor,
    rank: int = 64,
    max_pos_tokens: int = 4096,
    q_low: float = 0.2,
    q_high: float = 0.8,
    min_weight: float = 0.1,
    svd: str = "randomized",
    min_pos_tokens: int = 4,
) -> GroupAlignment | None:
    """Alignment of one group's negative tokens with its positive subspace, and their ResRL weights
    (``quantile_gate(residual_energy)``, the same values ``residual_token_weights`` gives them).

    pos_hidden: [M, H]; neg_hidden: [N, H] (the hooked layer). None when there are fewer than ``min_pos_tokens``
    positive tokens (ResRL then leaves the group's weights at 1) or no negative token.
    """
    if pos_hidden.shape[0] < min_pos_tokens or neg_hidden.shape[0] == 0:
        return None
    space = positive_subspace(pos_hidden, rank, max_pos_tokens, svd)
    if space is None:
        return None
    al = negative_alignment(space, neg_hidden)
    k = space.basis.shape[1]
    weights = quantile_gate(al.energy, q_low, q_high, min_weight)
    return GroupAlignment(al, weights, k, subspace_conditioning(space.centred_pos, k))
