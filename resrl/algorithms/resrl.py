"""ResRL (Sec. 3.2): negative-token weights from projection residuals onto the positive subspace.

Per prompt group, with ``LN`` a LayerNorm without affine parameters:

1. ``P``: the group's positive response tokens (at most ``max_pos_tokens``, sampled uniformly without
   replacement from a seeded generator; ``pos_sampling="even"`` takes evenly spaced tokens instead);
   ``mu = mean(LN(P))``; ``X = LN(P) - mu``  [M, H].
2. ``V``: the top ``k = min(rank, M - 1, H)`` right singular vectors of ``X``  [H, k].
3. For each negative token ``h``: ``c = LN(h) - mu``, residual ``r = c - V V^T c``,
   energy ``e = ||r||^2 / H``.
4. Group quantiles ``lo = Q(e, q_low)``, ``hi = Q(e, q_high)``; score ``u = clip((e - lo) / (hi - lo), 0, 1)``;
   weight ``w = min_weight + (1 - min_weight) * u``. When ``hi - lo < flat_tol`` every negative token of
   the group gets ``(1 + min_weight) / 2``.

Positive tokens, padding, and every token of a group with no positive response, no negative response,
or fewer than 4 positive tokens get weight 1. Weights are computed in float32 under ``no_grad``, with autocast
switched off (veRL calls the loss inside a bf16 autocast region).
The advantages then become ``A * pos_scale`` for positive responses and ``A * w`` for negative ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from resrl.algorithms.core import autocast_off, group_index

SVD_METHODS = ("randomized", "exact")


def top_right_singular_vectors(
    x: torch.Tensor,
    k: int,
    method: str = "randomized",
    generator: torch.Generator | None = None,
    niter: int = 4,
    oversample: int = 8,
) -> torch.Tensor:
    """Top-``k`` right singular vectors of ``x``. x: [M, H] float32; returns [H, k] (orthonormal columns).

    ``exact``: full thin SVD. ``randomized``: Halko et al.'s range finder with ``k + oversample`` probes and
    ``niter`` QR-stabilised power iterations, drawing probes from ``generator`` (a fixed-seed generator when
    None, so results never depend on the global RNG).
    """
    return top_right_singular(x, k, method, generator, niter, oversample)[0]


def top_right_singular(
    x: torch.Tensor,
    k: int,
    method: str = "randomized",
    generator: torch.Generator | None = None,
    niter: int = 4,
    oversample: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(:func:`top_right_singular_vectors`, the singular values it computed along the way [q] descending: all of
    them for ``exact``, the top ``q = min(k + oversample, M, H)`` estimates for ``randomized``)."""
    m, h = x.shape
    if not 1 <= k <= min(m, h):
        raise ValueError(f"k must be in [1, min(M, H)] = [1, {min(m, h)}], got {k}")
    if method == "exact":
        _, s, vh = torch.linalg.svd(x, full_matrices=False)
        return vh[:k].T, s
    if method != "randomized":
        raise ValueError(f"unknown svd method {method!r}; valid: {', '.join(SVD_METHODS)}")
    gen = generator if generator is not None else torch.Generator(device=x.device).manual_seed(0)
    q = min(k + oversample, m, h)
    probes = torch.randn(h, q, generator=gen, dtype=x.dtype, device=x.device)
    basis = torch.linalg.qr(x @ probes).Q  # [M, q]
    for _ in range(niter):
        basis = torch.linalg.qr(x @ torch.linalg.qr(x.T @ basis).Q).Q
    small = basis.T @ x  # [q, H]
    _, s, vh = torch.linalg.svd(small, full_matrices=False)
    return vh[:k].T, s


def spectrum_conditioning(
    singular: torch.Tensor, total_energy: float, k: int, num_tokens: int
) -> dict[str, float]:
    """Conditioning of a rank-``k`` subspace of ``num_tokens`` centred tokens from a (partial) spectrum [q]
    descending: ``energy_at_k`` (the share of ``total_energy`` = ``||X||_F^2`` the top k singular values hold),
    ``gap_at_k`` = ``s_k / s_{k+1}`` (NaN when ``s_{k+1}`` was not computed or is 0) and ``spans_all`` (1 when
    ``k >= num_tokens - 1``: the subspace holds every centred token, whose rank is at most ``num_tokens - 1``; the
    energy is then 1 and the gap undefined)."""
    if k >= num_tokens - 1:
        return {"energy_at_k": 1.0, "gap_at_k": float("nan"), "spans_all": 1.0}
    s = singular.double()
    energy = float(s[:k].pow(2).sum()) / total_energy if total_energy > 0 else float("nan")
    gap = float(s[k - 1] / s[k]) if s.numel() > k and float(s[k]) > 0 else float("nan")
    return {"energy_at_k": min(energy, 1.0), "gap_at_k": gap, "spans_all": 0.0}


def residual_energy(centred: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Normalised squared residual ``||c - V V^T c||^2 / H``. centred: [N, H]; basis V: [H, k]; returns [N]."""
    resid = centred - (centred @ basis) @ basis.T
    return resid.pow(2).sum(dim=-1) / centred.shape[-1]


def quantile_gate(
    energy: torch.Tensor,
    q_low: float = 0.2,
    q_high: float = 0.8,
    min_weight: float = 0.1,
    flat_tol: float = 1e-5,
) -> torch.Tensor:
    """Map one group's residual energies to weights in [min_weight, 1]. energy: [N] float32; returns [N]."""
    lo = torch.quantile(energy, q_low)
    hi = torch.quantile(energy, q_high)
    spread = hi - lo
    if spread < flat_tol:
        return torch.full_like(energy, (1.0 + min_weight) / 2.0)
    score = ((energy - lo) / spread).clamp(0.0, 1.0)
    return min_weight + (1.0 - min_weight) * score


POS_SAMPLINGS = ("uniform", "even")


def _sample_rows(
    n: int, m: int, how: str, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """Indices of ``m`` of ``n`` rows: ``uniform`` without replacement (the paper; the release's ``randperm``),
    drawn from ``generator`` (the global RNG when None, as the release), or ``even``: evenly spaced."""
    if how == "even":
        return torch.linspace(0, n - 1, steps=m, device=device).round().long()
    return torch.randperm(n, generator=generator, device=device)[:m].sort().values


def validate_resrl_args(
    rank: int, max_pos_tokens: int, q_low: float, q_high: float, min_weight: float
) -> None:
    """Raise ValueError naming the bad argument."""
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    if max_pos_tokens < 2:
        raise ValueError(f"max_pos_tokens must be >= 2, got {max_pos_tokens}")
    if not 0.0 <= q_low < q_high <= 1.0:
        raise ValueError(f"q_low={q_low}, q_high={q_high}: need 0 <= q_low < q_high <= 1")
    if not 0.0 <= min_weight <= 1.0:
        raise ValueError(f"min_weight must be in [0, 1], got {min_weight}")


def residual_token_weights_and_conditioning(
    hidden: torch.Tensor,
    response_mask: torch.Tensor,
    is_positive: torch.Tensor,
    group_ids: torch.Tensor,
    rank: int = 64,
    max_pos_tokens: int = 4096,
    q_low: float = 0.2,
    q_high: float = 0.8,
    min_weight: float = 0.1,
    svd: str = "randomized",
    generator: torch.Generator | None = None,
    min_pos_tokens: int = 4,
    flat_tol: float = 1e-5,
    niter: int = 4,
    pos_sampling: str = "uniform",
) -> tuple[torch.Tensor, list[dict[str, float]]]:
    """ResRL token weights. hidden: [B, T, H] any float; response_mask: [B, T] bool; is_positive: [B] bool;
    group_ids: [B] int; returns [B, T] float32 without gradient (see the module docstring), and for each group
    that built a subspace its conditioning from the singular values the SVD computed anyway
    (:func:`spectrum_conditioning`: ``energy_at_k``, ``gap_at_k``; with ``spans_all`` = 1 when ``k = M - 1``).

    ``generator`` (on ``hidden``'s device) draws the positive-token sample above ``max_pos_tokens`` and the
    randomized SVD's probes; None: the global RNG for the sample and a fixed seed for the probes.
    """
    validate_resrl_args(rank, max_pos_tokens, q_low, q_high, min_weight)
    if svd not in SVD_METHODS:
        raise ValueError(f"unknown svd method {svd!r}; valid: {', '.join(SVD_METHODS)}")
    if pos_sampling not in POS_SAMPLINGS:
        raise ValueError(f"unknown pos_sampling {pos_sampling!r}; valid: {', '.join(POS_SAMPLINGS)}")
    if hidden.dim() != 3 or hidden.shape[:2] != response_mask.shape:
        raise ValueError(
            f"hidden must be [B, T, H] matching response_mask [B, T]; got {tuple(hidden.shape)}, {tuple(response_mask.shape)}"
        )
    with torch.no_grad(), autocast_off(hidden.device):
        h = hidden.detach().to(torch.float32)
        mask = response_mask.bool()
        pos = is_positive.bool().to(mask.device)
        width = h.shape[-1]
        weights = torch.ones(mask.shape, dtype=torch.float32, device=h.device)
        conditioning: list[dict[str, float]] = []
        dense, num_groups = group_index(group_ids.to(mask.device))
        for g in range(num_groups):
            members = dense == g
            pos_rows, neg_rows = members & pos, members & ~pos
            if not pos_rows.any() or not neg_rows.any():
                continue
            pos_tokens = h[pos_rows][mask[pos_rows]]  # [M, H]
            m = pos_tokens.shape[0]
            if m < min_pos_tokens:
                continue
            if m > max_pos_tokens:
                pos_tokens = pos_tokens[_sample_rows(m, max_pos_tokens, pos_sampling, generator, h.device)]
                m = max_pos_tokens
            normed = F.layer_norm(pos_tokens, (width,))
            centroid = normed.mean(dim=0)
            k = min(rank, m - 1, width)
            if k < 1:
                continue
            centred_pos = normed - centroid
            basis, singular = top_right_singular(centred_pos, k, svd, generator, niter)
            total = float(centred_pos.double().pow(2).sum())
            conditioning.append(spectrum_conditioning(singular, total, k, m))
            neg_mask = mask[neg_rows]  # [Bn, T]
            if not neg_mask.any():
                continue
            centred_neg = F.layer_norm(h[neg_rows][neg_mask], (width,)) - centroid  # [N, H]
            neg_weights = torch.ones(neg_mask.shape, dtype=torch.float32, device=h.device)
            neg_weights[neg_mask] = quantile_gate(
                residual_energy(centred_neg, basis), q_low, q_high, min_weight, flat_tol
            )
            weights[neg_rows] = neg_weights
    return weights, conditioning


def residual_token_weights(*args, **kwargs) -> torch.Tensor:
    """:func:`residual_token_weights_and_conditioning` without the conditioning: the [B, T] float32 weights."""
    return residual_token_weights_and_conditioning(*args, **kwargs)[0]


def resrl_advantages(
    advantages: torch.Tensor, weights: torch.Tensor, is_positive: torch.Tensor, pos_scale: float = 0.1
) -> torch.Tensor:
    """Reweighted token advantages: ``A * pos_scale`` on positive responses, ``A * w`` on negative ones.

    advantages: [B] or [B, T] float; weights: [B, T] float; is_positive: [B] bool; returns [B, T] float32.
    """
    adv = advantages.to(torch.float32)
    if adv.dim() == 1:
        adv = adv[:, None].expand(weights.shape)
    pos = is_positive.bool()[:, None]
    return torch.where(pos, adv * pos_scale, adv * weights.to(torch.float32))


def conditioning_statistics(conditioning: list[dict[str, float]]) -> dict[str, float]:
    """Means over groups of :func:`residual_token_weights_and_conditioning`'s conditioning (for per-step logging,
    on both backends): ``resrl/subspace_energy_at_k``, ``resrl/subspace_gap_at_k`` (groups where it is defined),
    ``resrl/subspace_spans_all``; empty without groups."""
    out = {}
    for key in ("energy_at_k", "gap_at_k", "spans_all"):
        vals = [c[key] for c in conditioning if c[key] == c[key]]  # NaN != NaN
        if vals:
            out[f"resrl/subspace_{key}"] = float(sum(vals) / len(vals))
    return out


def weight_statistics(
    weights: torch.Tensor, response_mask: torch.Tensor, is_positive: torch.Tensor, min_weight: float
) -> dict[str, float]:
    """Summary of the weights on negative response tokens (for per-step logging)."""
    sel = response_mask.bool() & ~is_positive.bool()[:, None]
    w = weights[sel].to(torch.float32)
    if w.numel() == 0:
        return {"resrl/neg_tokens": 0.0}
    qs = torch.quantile(w, torch.tensor([0.1, 0.5, 0.9], device=w.device))
    return {
        "resrl/neg_tokens": float(w.numel()),
        "resrl/weight_mean": float(w.mean()),
        "resrl/weight_p10": float(qs[0]),
        "resrl/weight_p50": float(qs[1]),
        "resrl/weight_p90": float(qs[2]),
        "resrl/frac_at_min": float((w <= min_weight + 1e-6).float().mean()),
    }
