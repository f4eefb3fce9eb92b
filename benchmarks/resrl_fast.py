"""Fast ResRL token weights: the contract of :func:`resrl.algorithms.resrl.residual_token_weights`, less work.

Same signature, same skip rules, same sampling of positive tokens (and the same draws from ``generator``),
same quantile gate; only the arithmetic is reorganised:

- One sort of the response tokens by (group, sign) replaces the per-group boolean masks: each group's
  positive and negative tokens are then gathered with one indexing each (no copy of padding or of the whole
  batch, even when ``hidden`` is a strided slice; no ``h[rows][mask]`` double copy), and only tokens of
  groups that get weights are ever converted to float32.
- The negatives' residual is formed in place in the LayerNorm output (``c -= mu``, then ``c -= (c V) V^T``
  as one GEMM accumulating into ``c``): one ``[N, H]`` buffer instead of four. The shortcut
  ``||c||^2 - ||V^T c||^2`` (one GEMM fewer) was measured and rejected: when most of ``c`` lies in the
  subspace the float32 difference cancels, and its weights drifted by up to 6e-4 from a float64 reference,
  against 7e-6 for the explicit residual.
- ``svd="exact"``: the top-``k`` right singular vectors come from a float64 eigendecomposition of the
  smaller Gram matrix (``X^T X`` [H, H] when ``M >= H``, else ``X X^T`` [M, M] mapped back through
  ``X^T``) instead of a float32 thin SVD of ``X`` [M, H]. Same subspace; the float64 Gram is at least as
  accurate as the float32 SVD wherever ``sigma_k > sigma_{k+1}`` (where they tie the top-k subspace is not
  unique and no implementation is bound to agree). Directions with ``sigma_i <= 1e-6 sigma_1`` (a
  rank-deficient ``X``, e.g. repeated tokens) carry no energy of ``X`` and are dropped; the float32 SVD
  returns an arbitrary vector for them.
- ``svd="randomized"``: the reference's algorithm (Halko et al.'s range finder, ``k + 8`` probes, ``niter``
  QR-stabilised power iterations, then an SVD of ``Q^T X``) with the same probes: drawn from ``generator``
  in the same order, or from a fresh ``manual_seed(0)`` generator per group when None. The weights
  therefore agree with the reference up to float32 rounding, not only in distribution.

Threads: ``LAPACK_THREADS`` (default 1) sets the intra-op threads of the factorisations (QR, SVD, eigh)
alone; the matrix products, where most flops are, always use the caller's count. On a CPU shared with other
busy processes, multi-threaded LAPACK on these thin matrices stalls at every OpenMP barrier (measured on 2
cores at load average 5.5: QR of [1300, 72] 200 ms with 2 threads against 2.6 ms with 1; SVD of [72, 2560]
3.1 s against 25 ms), so the default is one thread; it lowers ``torch.set_num_threads`` around each
factorisation, process-wide, so do not run other torch work in parallel Python threads meanwhile. On an
idle machine the caller's count is faster (measured idle, 2 cores: SVD of [72, 2560] 4.5 ms against 11.2 ms;
float64 eigh of [1500, 1500] 0.45 s against 0.98 s): set ``resrl_fast.LAPACK_THREADS = None`` there. The
count is a fixed setting, never chosen from the load, so a run's rounding does not depend on the machine's
other work.

Weights depend on group membership (each group fits its own subspace and its own quantiles), exactly as
in the reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from resrl.algorithms.core import group_index
from resrl.algorithms.resrl import (
    SVD_METHODS,
    _sample_rows,
    quantile_gate,
    validate_resrl_args,
)

#: Singular values below this fraction of the largest are treated as zero by the exact Gram path.
RANK_TOL = 1e-6
#: Intra-op threads for the LAPACK factorisations (QR, SVD, eigh) on CPU; None keeps the caller's setting.
#: Matrix products always use the caller's setting. See "Threads" in the module docstring.
LAPACK_THREADS: int | None = 1
_LN_EPS = 1e-5  # F.layer_norm's default, as in the reference


@contextmanager
def lapack_threads(device: torch.device, threads: int | None = None) -> Iterator[None]:
    """Run the enclosed factorisations with ``threads`` intra-op threads (default ``LAPACK_THREADS``) on CPU,
    then restore the previous count. A no-op on other devices or when the count already matches."""
    n = LAPACK_THREADS if threads is None else threads
    old = torch.get_num_threads()
    if n is None or device.type != "cpu" or n == old:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def top_right_singular_vectors_randomized(
    x: torch.Tensor, k: int, generator: torch.Generator | None = None, niter: int = 4, oversample: int = 8
) -> torch.Tensor:
    """The reference's randomized range finder, step for step and draw for draw, with its QRs and final SVD
    under :func:`lapack_threads`. x: [M, H] float32; returns [H, k] float32 (orthonormal columns)."""
    m, h = x.shape
    if not 1 <= k <= min(m, h):
        raise ValueError(f"k must be in [1, min(M, H)] = [1, {min(m, h)}], got {k}")
    gen = generator if generator is not None else torch.Generator(device=x.device).manual_seed(0)
    q = min(k + oversample, m, h)
    probes = torch.randn(h, q, generator=gen, dtype=x.dtype, device=x.device)
    y = x @ probes  # [M, q]
    with lapack_threads(x.device):
        basis = torch.linalg.qr(y).Q
    for _ in range(niter):
        z = x.T @ basis  # [H, q]
        with lapack_threads(x.device):
            z = torch.linalg.qr(z).Q
        y = x @ z
        with lapack_threads(x.device):
            basis = torch.linalg.qr(y).Q
    small = basis.T @ x  # [q, H]
    with lapack_threads(x.device):
        return torch.linalg.svd(small, full_matrices=False).Vh[:k].T


def top_right_singular_vectors_gram(x: torch.Tensor, k: int) -> torch.Tensor:
    """Exact top-``k`` right singular vectors of ``x`` via a float64 Gram eigendecomposition.

    x: [M, H] float32; returns [H, k'] float32 with orthonormal columns, ``k' <= k`` (directions whose
    singular value is ``<= RANK_TOL * sigma_1`` are dropped; ``k' = 0`` for ``x == 0``).
    """
    m, h = x.shape
    if not 1 <= k <= min(m, h):
        raise ValueError(f"k must be in [1, min(M, H)] = [1, {min(m, h)}], got {k}")
    xd = x.to(torch.float64)
    gram = xd.T @ xd if m >= h else xd @ xd.T  # [H, H] or [M, M]
    with lapack_threads(x.device):
        evals, evecs = torch.linalg.eigh(gram)  # ascending
    if m >= h:
        evals, basis = evals[-k:], evecs[:, -k:]
    else:
        evals, left = evals[-k:], evecs[:, -k:]
        basis = None
    keep = evals > (RANK_TOL**2) * evals[-1].clamp_min(0.0)
    if evals[-1] <= 0:
        keep = torch.zeros_like(keep)
    if basis is None:
        # v_i = X^T u_i / sigma_i; a final QR removes the rounding left in the columns' orthogonality.
        sigma = evals[keep].sqrt()
        with lapack_threads(x.device):
            basis = torch.linalg.qr((xd.T @ left[:, keep]) / sigma).Q
    else:
        basis = basis[:, keep]
    return basis.to(x.dtype)


def _group_layout(mask: torch.Tensor, pos: torch.Tensor, dense: torch.Tensor, num_groups: int):
    """Flat token indices [n_tok] ordered by (group, positives first, row, position) and per-group counts.

    mask: [B, T] bool; pos, dense: [B]. Returns (order [n_tok] long into the flattened [B*T] tokens,
    counts [G, 2] long: (positive, negative) response tokens, rows [G, 2] long: (positive, negative) rows).
    """
    t = mask.shape[1]
    flat = mask.reshape(-1).nonzero().squeeze(1)  # row-major, as h[rows][mask[rows]] reads them
    rows = flat // t
    key = dense[rows] * 2 + (~pos[rows]).long()  # positives (0) before negatives (1) within a group
    key_sorted, perm = torch.sort(key, stable=True)
    counts = torch.bincount(key_sorted, minlength=2 * num_groups).view(num_groups, 2)
    row_key = dense * 2 + (~pos).long()
    row_counts = torch.bincount(row_key, minlength=2 * num_groups).view(num_groups, 2)
    return flat[perm], counts, row_counts


def _negative_energy(neg: torch.Tensor, centroid: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``||c - V V^T c||^2 / H`` with ``c = LN(neg) - centroid``, computed in place in the LayerNorm output.

    neg: [N, H] float32; centroid: [H]; basis V: [H, k] orthonormal (k may be 0); returns [N] float32.
    """
    width = neg.shape[-1]
    c = F.layer_norm(neg, (width,), eps=_LN_EPS)  # a fresh [N, H] buffer
    c.sub_(centroid)
    if basis.shape[1]:
        c.addmm_(c @ basis, basis.T, alpha=-1.0)  # c <- c - (c V) V^T, one GEMM with beta = 1, no temporary
    return c.pow_(2).sum(dim=-1) / width


def residual_token_weights_fast(
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
) -> torch.Tensor:
    """ResRL token weights, as ``residual_token_weights`` (see the module docstring for what differs).

    hidden: [B, T, H] any float; response_mask: [B, T] bool; is_positive: [B] bool; group_ids: [B] int;
    returns [B, T] float32 without gradient.
    """
    validate_resrl_args(rank, max_pos_tokens, q_low, q_high, min_weight)
    if svd not in SVD_METHODS:
        raise ValueError(f"unknown svd method {svd!r}; valid: {', '.join(SVD_METHODS)}")
    if hidden.dim() != 3 or hidden.shape[:2] != response_mask.shape:
        raise ValueError(
            f"hidden must be [B, T, H] matching response_mask [B, T]; got {tuple(hidden.shape)}, {tuple(response_mask.shape)}"
        )
    with torch.no_grad():
        b, t, width = hidden.shape
        device = hidden.device
        h = hidden.detach()

        def gather(flat_idx: torch.Tensor) -> torch.Tensor:  # [n] flat token indices -> [n, H] float32
            return h[flat_idx // t, flat_idx % t].to(
                torch.float32
            )  # no copy of the rest (h may be a strided view)

        mask = response_mask.bool()
        pos = is_positive.bool().to(device)
        weights = torch.ones(b * t, dtype=torch.float32, device=device)
        dense, num_groups = group_index(group_ids.to(device))
        order, counts, row_counts = _group_layout(mask, pos, dense, num_groups)
        starts = torch.cumsum(counts.reshape(-1), 0) - counts.reshape(-1)
        counts_l, rows_l, starts_l = counts.tolist(), row_counts.tolist(), starts.view(num_groups, 2).tolist()
        for g in range(num_groups):
            (m, n_neg), (pos_rows, neg_rows), (p0, n0) = counts_l[g], rows_l[g], starts_l[g]
            if pos_rows == 0 or neg_rows == 0 or m < min_pos_tokens:
                continue
            pos_idx = order[p0 : p0 + m]
            if m > max_pos_tokens:
                pos_idx = pos_idx[_sample_rows(m, max_pos_tokens, pos_sampling, generator, device)]
                m = max_pos_tokens
            k = min(rank, m - 1, width)
            if k < 1:
                continue
            x = F.layer_norm(gather(pos_idx), (width,), eps=_LN_EPS)  # [M, H]
            centroid = x.mean(dim=0)
            x.sub_(centroid)
            if svd == "exact":
                basis = top_right_singular_vectors_gram(x, k)
            else:
                basis = top_right_singular_vectors_randomized(x, k, generator, niter)
            if n_neg == 0:
                continue
            neg_idx = order[n0 : n0 + n_neg]
            energy = _negative_energy(gather(neg_idx), centroid, basis)
            weights[neg_idx] = quantile_gate(energy, q_low, q_high, min_weight, flat_tol)
    return weights.view(b, t)
