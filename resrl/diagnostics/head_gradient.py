"""Output-head gradient interference between the positive and negative parts of a group's loss (Sec. 3.1).

Setting (Lemma 1 of the paper): logits ``z = W h`` with ``W`` [V, H] the output head and ``h`` [H] the
final-norm hidden state of a token. For a token loss ``l`` with logit gradient ``g = dl/dz`` [V], the head
gradient is ``dl/dW = g h^T`` and, for any two tokens,

    <g_i h_i^T, g_j h_j^T>_F = (g_i . g_j) * (h_i . h_j)      (logit term x representation term).

For a policy-gradient token loss ``l = -a * log softmax(z / T)_y`` (advantage or weight ``a``, sampling
temperature ``T``): ``g = a * (softmax(z / T) - onehot(y)) / T``  (:func:`logit_gradients`).

Summed over the tokens of the positive part ``P`` and of the negative part ``N`` of a group, the two head
gradients are ``G_P = sum_i g_i h_i^T`` and ``G_N = sum_j g_j h_j^T``, and the cross-sign interference is

    <G_P, G_N>_F = sum_{i in P, j in N} (g_i . g_j)(h_i . h_j) = sum( (K_g * K_h)[P, N] )

with the Gram matrices ``K_g = G G^T`` [N_tok, N_tok] (logits) and ``K_h = H H^T`` (representations). Nothing
here runs a backward pass: :func:`logit_gram_from_head` builds ``K_g`` from ``W``, ``h`` and the targets in one
pass over vocabulary chunks (an online softmax, so no [N_tok, V] matrix is ever held), and
:func:`head_gradient_interference` does the same from explicit logit gradients.

Sign convention used by the trainer diagnostics (:mod:`resrl.diagnostics.step`): with the positive side's
coefficients ``+1`` (``G_P`` is the gradient of ``-sum log pi(y+)``) and the negative side's the method's
negative advantages (``G_N`` is the gradient of the negative part of the loss), one SGD step of size ``eta``
on the negative part changes the positive log-likelihood by ``eta * <G_P, G_N>`` to first order: a negative
cross term is interference that lowers the positive responses' likelihood (LLD).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

DEFAULT_VOCAB_CHUNK = 8192


def logit_gradients(
    logits: torch.Tensor, targets: torch.Tensor, coef: torch.Tensor | float = 1.0, temperature: float = 1.0
) -> torch.Tensor:
    """``d/dz [-coef * log softmax(z / T)_y] = coef * (softmax(z / T) - onehot(y)) / T``.

    logits z: [N, V] float (raw head outputs, before temperature); targets y: [N] long; coef: [N] or scalar;
    returns [N, V] in the logits' dtype.
    """
    if logits.dim() != 2 or targets.shape != logits.shape[:1]:
        raise ValueError(
            f"logits must be [N, V] and targets [N]; got {tuple(logits.shape)}, {tuple(targets.shape)}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    onehot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    probs = torch.softmax(logits / temperature, dim=-1) - onehot
    coef_t = torch.as_tensor(coef, dtype=logits.dtype, device=logits.device)
    if coef_t.dim() == 1:
        coef_t = coef_t[:, None]
    return probs * coef_t / temperature


@dataclass
class HeadInterference:
    """Summary of the head-gradient geometry between a positive part (P) and a negative part (N).

    cross: ``<G_P, G_N>_F``; pos_sq, neg_sq: ``||G_P||_F^2``, ``||G_N||_F^2``; cosine: ``cross / (||G_P|| ||G_N||)``
    (NaN when a part has a zero gradient); cross_per_pair: ``cross / (n_pos * n_neg)``.
    Logit term over the P x N pairs: logit_ip_mean = mean ``g_i . g_j``, logit_cos_mean = mean cosine.
    Representation term over the P x N pairs: rep_ip_mean = mean ``h_i . h_j``, rep_cos_mean = mean cosine.
    """

    cross: float
    pos_sq: float
    neg_sq: float
    cosine: float
    cross_per_pair: float
    logit_ip_mean: float
    logit_cos_mean: float
    rep_ip_mean: float
    rep_cos_mean: float
    n_pos: int
    n_neg: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _cosine_matrix(gram: torch.Tensor) -> torch.Tensor:
    """Cosines from a Gram matrix [N, N] (0 where a vector is zero)."""
    norms = gram.diagonal().clamp_min(0.0).sqrt()
    denom = norms[:, None] * norms[None, :]
    return torch.where(
        denom > 0, gram / denom.clamp_min(torch.finfo(gram.dtype).tiny), torch.zeros_like(gram)
    )


def interference_from_grams(kg: torch.Tensor, kh: torch.Tensor, n_pos: int) -> HeadInterference:
    """Summarise the interference of tokens ``[0, n_pos)`` (positive part) with the rest (negative part).

    kg: [N, N] Gram of the logit gradients (coefficients included); kh: [N, N] Gram of the representations.
    """
    n = kg.shape[0]
    if kg.shape != (n, n) or kh.shape != (n, n):
        raise ValueError(f"kg and kh must both be [N, N]; got {tuple(kg.shape)}, {tuple(kh.shape)}")
    if not 0 < n_pos < n:
        raise ValueError(f"n_pos must be in [1, N-1] = [1, {n - 1}] (both parts non-empty), got {n_pos}")
    prod = kg * kh  # [N, N]: <grad_i, grad_j>_F of the per-token head gradients
    cross = prod[:n_pos, n_pos:].sum()
    pos_sq = prod[:n_pos, :n_pos].sum()
    neg_sq = prod[n_pos:, n_pos:].sum()
    denom = (pos_sq.clamp_min(0.0) * neg_sq.clamp_min(0.0)).sqrt()
    cosine = float(cross / denom) if float(denom) > 0 else math.nan
    n_neg = n - n_pos
    return HeadInterference(
        cross=float(cross),
        pos_sq=float(pos_sq),
        neg_sq=float(neg_sq),
        cosine=cosine,
        cross_per_pair=float(cross) / (n_pos * n_neg),
        logit_ip_mean=float(kg[:n_pos, n_pos:].mean()),
        logit_cos_mean=float(_cosine_matrix(kg)[:n_pos, n_pos:].mean()),
        rep_ip_mean=float(kh[:n_pos, n_pos:].mean()),
        rep_cos_mean=float(_cosine_matrix(kh)[:n_pos, n_pos:].mean()),
        n_pos=n_pos,
        n_neg=n_neg,
    )


def chunked_gram(x: torch.Tensor, chunk: int = DEFAULT_VOCAB_CHUNK) -> torch.Tensor:
    """``x x^T`` accumulated over column chunks. x: [N, V]; returns [N, N] (same dtype)."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    out = torch.zeros(x.shape[0], x.shape[0], dtype=x.dtype, device=x.device)
    for start in range(0, x.shape[1], chunk):
        part = x[:, start : start + chunk]
        out += part @ part.T
    return out


def head_gradient_interference(
    h_pos: torch.Tensor,
    g_pos: torch.Tensor,
    h_neg: torch.Tensor,
    g_neg: torch.Tensor,
    vocab_chunk: int = DEFAULT_VOCAB_CHUNK,
) -> HeadInterference:
    """Interference of explicit per-token logit gradients (coefficients already applied).

    h_pos: [Np, H]; g_pos: [Np, V]; h_neg: [Nn, H]; g_neg: [Nn, V]; float. ``cross`` equals
    ``sum_{i,j} (g_i . g_j)(h_i . h_j)`` = the Frobenius inner product of the two parts' head gradients.
    Cost O((Np + Nn)^2 (V + H)); memory O((Np + Nn)^2 + (Np + Nn) * vocab_chunk) beyond the inputs.
    """
    if h_pos.shape[0] != g_pos.shape[0] or h_neg.shape[0] != g_neg.shape[0]:
        raise ValueError("h_pos/g_pos and h_neg/g_neg must have the same number of rows (tokens)")
    if g_pos.shape[1] != g_neg.shape[1] or h_pos.shape[1] != h_neg.shape[1]:
        raise ValueError("positive and negative parts must share V (g) and H (h)")
    g = torch.cat([g_pos, g_neg])
    h = torch.cat([h_pos, h_neg])
    return interference_from_grams(chunked_gram(g, vocab_chunk), h @ h.T, h_pos.shape[0])


def logit_gram_from_head(
    weight: torch.Tensor,
    hidden: torch.Tensor,
    targets: torch.Tensor,
    temperature: float = 1.0,
    bias: torch.Tensor | None = None,
    vocab_chunk: int = DEFAULT_VOCAB_CHUNK,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gram matrix of the unit-coefficient logit gradients ``u_i = (softmax(z_i / T) - onehot(y_i)) / T``
    with ``z_i = W h_i (+ b)``, without materialising [N, V].

    weight W: [V, H]; hidden h: [N, H]; targets y: [N] long; bias: [V] or None.
    Returns ``(K_u [N, N], logsumexp_v(z_iv / T) [N])``, in ``hidden``'s dtype.

    ``u_i . u_j = (p_i . p_j - p_i[y_j] - p_j[y_i] + [y_i == y_j]) / T^2``; ``p_i . p_j`` is accumulated over
    vocabulary chunks with a running per-row maximum (online softmax), ``p_i[y_j]`` from ``h_i . W[y_j]``.
    With coefficients ``a``, the logit-gradient Gram is ``K_u * a a^T``.
    """
    if weight.dim() != 2 or hidden.dim() != 2 or weight.shape[1] != hidden.shape[1]:
        raise ValueError(
            f"weight must be [V, H] and hidden [N, H]; got {tuple(weight.shape)}, {tuple(hidden.shape)}"
        )
    if targets.shape != hidden.shape[:1]:
        raise ValueError(f"targets must be [N] = [{hidden.shape[0]}], got {tuple(targets.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if vocab_chunk < 1:
        raise ValueError(f"vocab_chunk must be >= 1, got {vocab_chunk}")
    dtype, n = hidden.dtype, hidden.shape[0]
    w = weight.to(dtype)
    b = bias.to(dtype) if bias is not None else None
    run_max = torch.full((n,), -math.inf, dtype=dtype, device=hidden.device)
    run_sum = torch.zeros(n, dtype=dtype, device=hidden.device)  # sum_v exp(z_v / T - run_max)
    pp = torch.zeros(n, n, dtype=dtype, device=hidden.device)  # sum_v e_iv e_jv with the same shifts
    for start in range(0, w.shape[0], vocab_chunk):
        z = hidden @ w[start : start + vocab_chunk].T  # [N, C]
        if b is not None:
            z = z + b[start : start + vocab_chunk]
        z = z / temperature
        new_max = torch.maximum(run_max, z.max(dim=1).values)
        scale = torch.exp(run_max - new_max)  # 0 on the first chunk (exp(-inf))
        e = torch.exp(z - new_max[:, None])
        pp = pp * scale[:, None] * scale[None, :] + e @ e.T
        run_sum = run_sum * scale + e.sum(dim=1)
        run_max = new_max
    lse = run_max + run_sum.log()
    pp = pp / (run_sum[:, None] * run_sum[None, :])
    z_t = hidden @ w[targets].T  # [N, N]: z_i[y_j] * T
    if b is not None:
        z_t = z_t + b[targets][None, :]
    p_t = torch.exp(z_t / temperature - lse[:, None])  # p_i[y_j]
    same = (targets[:, None] == targets[None, :]).to(dtype)
    return (pp - p_t - p_t.T + same) / temperature**2, lse
