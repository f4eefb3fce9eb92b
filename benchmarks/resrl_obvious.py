"""The obvious ResRL weights: a literal, per-group and per-response reading of Sec. 3.2 (benchmark baseline).

For each prompt group: LayerNorm each positive response's tokens, stack them, centre them, take the top-k
right singular vectors (``torch.pca_lowrank`` for the randomized variant, ``torch.linalg.svd`` for the exact
one), build the projector ``P = V V^T`` [H, H], and for each negative response compute the residual
``(I - P) c`` of its centred tokens explicitly; then group quantiles and the clipped min-max weight.

This is what the paper's text says step by step, written the way one would first write it. It is only a
baseline for ``python -m benchmarks``: it ignores ``max_pos_tokens`` (the benchmark shapes never exceed it)
and its randomized variant draws its own probes (``pca_lowrank`` with the project's ``k + 8`` probes and
``niter = 4``), so only its exact variant is expected to reproduce the project's weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def obvious_residual_weights(
    hidden: torch.Tensor,
    response_mask: torch.Tensor,
    is_positive: torch.Tensor,
    group_ids: torch.Tensor,
    rank: int = 64,
    q_low: float = 0.2,
    q_high: float = 0.8,
    min_weight: float = 0.1,
    svd: str = "randomized",
    niter: int = 4,
    oversample: int = 8,
    min_pos_tokens: int = 4,
    flat_tol: float = 1e-5,
) -> torch.Tensor:
    """hidden: [B, T, H] float; response_mask: [B, T] bool; is_positive: [B] bool; group_ids: [B] int;
    returns [B, T] float32 weights (1 for positives, padding and skipped groups)."""
    b, _, width = hidden.shape
    weights = torch.ones(response_mask.shape, dtype=torch.float32)
    with torch.no_grad():
        for g in sorted(set(group_ids.tolist())):
            members = [i for i in range(b) if int(group_ids[i]) == g]
            pos_rows = [i for i in members if bool(is_positive[i])]
            neg_rows = [i for i in members if not bool(is_positive[i])]
            if not pos_rows or not neg_rows:
                continue
            # 1. one LayerNorm per positive response, then the group's stacked positive tokens
            pos_tokens = torch.cat(
                [F.layer_norm(hidden[i][response_mask[i]].float(), (width,)) for i in pos_rows]
            )
            m = pos_tokens.shape[0]
            k = min(rank, m - 1, width)
            if m < min_pos_tokens or k < 1:
                continue
            mu = pos_tokens.mean(dim=0)
            # 2. low-rank SVD of the centred positives
            if svd == "exact":
                v = torch.linalg.svd(pos_tokens - mu, full_matrices=False).Vh[:k].T
            else:
                q = min(k + oversample, m, width)
                _, _, v = torch.pca_lowrank(pos_tokens, q=q, center=True, niter=niter)
                v = v[:, :k]
            projector = v @ v.T  # [H, H]
            # 3. residual of each negative response, one response at a time
            energies = []
            for i in neg_rows:
                c = F.layer_norm(hidden[i][response_mask[i]].float(), (width,)) - mu
                residual = c - c @ projector
                energies.append(residual.pow(2).sum(dim=-1) / width)
            all_e = torch.cat(energies)
            if all_e.numel() == 0:
                continue
            # 4. group quantiles and the clipped min-max weight
            lo, hi = torch.quantile(all_e, q_low), torch.quantile(all_e, q_high)
            for i, e in zip(neg_rows, energies, strict=True):
                if hi - lo < flat_tol:
                    w = torch.full_like(e, (1.0 + min_weight) / 2.0)
                else:
                    w = min_weight + (1.0 - min_weight) * ((e - lo) / (hi - lo)).clamp(0.0, 1.0)
                weights[i][response_mask[i]] = w
    return weights
