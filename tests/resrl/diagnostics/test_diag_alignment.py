"""Negative-token alignment with ResRL's positive subspace: hand-built geometry and consistency with ResRL."""

import math

import numpy as np
import pytest
import torch

from resrl.algorithms.resrl import residual_token_weights
from resrl.diagnostics.alignment import (
    group_alignment,
    negative_alignment,
    pearson,
    positive_subspace,
    spearman,
    subspace_conditioning,
)

H = 8


def _unit_rms(v):
    """Zero-mean vectors scaled to unit RMS are (up to LayerNorm's eps) fixed points of LayerNorm."""
    return v * math.sqrt(H) / v.norm(dim=-1, keepdim=True)


def _e(i):
    return torch.eye(H)[i]


U, V, W = _e(0) - _e(1), _e(2) - _e(3), _e(4) - _e(5)  # zero feature-mean, mutually orthogonal


def test_identical_positive_and_negative_tokens_are_fully_aligned():
    pos = torch.randn(10, 16, generator=torch.Generator().manual_seed(0))
    space = positive_subspace(pos, rank=64, svd="exact")  # k = M - 1 = 9 spans every centred positive token
    al = negative_alignment(space, pos[[0, 3, 7]])
    assert torch.allclose(al.cos, torch.ones(3), atol=1e-5)
    assert torch.allclose(al.in_subspace, torch.ones(3), atol=1e-5)
    assert torch.allclose(al.nn_cos, torch.ones(3), atol=1e-5)
    assert torch.allclose(al.energy, torch.zeros(3), atol=1e-5)


def test_orthogonal_and_half_aligned_tokens():
    pos = _unit_rms(torch.stack([U, -U, V, -V]))  # centroid 0, subspace span(U, V)
    space = positive_subspace(pos, rank=2, svd="exact")
    neg = _unit_rms(torch.stack([W, U + W, 3 * V - 0.0 * W]))
    al = negative_alignment(space, neg)
    assert al.cos.tolist() == pytest.approx([0.0, 1 / math.sqrt(2), 1.0], abs=1e-5)
    assert al.in_subspace.tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-5)
    assert al.nn_cos.tolist() == pytest.approx([0.0, 1 / math.sqrt(2), 1.0], abs=1e-5)
    # ResRL's energy ||r||^2 / H of a unit-RMS token is 1 - cos^2 (LayerNorm eps: 1e-5 relative).
    assert al.energy.tolist() == pytest.approx([1.0, 0.5, 0.0], abs=1e-4)


def test_weights_match_residual_token_weights_and_anticorrelate_with_alignment():
    g = torch.Generator().manual_seed(1)
    b, t = 4, 12
    hidden = torch.randn(b, t, H, generator=g)
    # negatives: mixtures of the positives' subspace and noise, with varying alignment
    hidden[2:] = hidden[2:] * torch.linspace(0.1, 3.0, t)[None, :, None] + hidden[:2].flip(1)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 9:] = False
    mask[3, 5:] = False
    pos = torch.tensor([True, True, False, False])
    ref = residual_token_weights(
        hidden,
        mask,
        pos,
        torch.zeros(b, dtype=torch.long),
        rank=3,
        max_pos_tokens=16,
        svd="exact",
        pos_sampling="even",
    )
    ga = group_alignment(
        hidden[pos][mask[pos]], hidden[~pos][mask[~pos]], rank=3, max_pos_tokens=16, svd="exact"
    )
    assert torch.allclose(ga.weights, ref[~pos][mask[~pos]], atol=1e-6)
    s = ga.summary()
    assert s["rank"] == 3.0
    assert s["spearman_cos_weight"] < 0 and s["pearson_cos_weight"] < 0


def test_too_few_positive_tokens_give_none():
    assert group_alignment(torch.randn(3, H), torch.randn(5, H)) is None
    assert group_alignment(torch.randn(6, H), torch.randn(0, H)) is None


def test_correlations_hand_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [9, 1, 0, -5]) == pytest.approx(-1.0)
    # x centred [-1, 0, 1], y centred [-4/3, -1/3, 5/3]: r = 3 / sqrt(2 * 42/9)
    assert pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(3 / math.sqrt(2 * 42 / 9))
    # ties: ranks of x are [1, 2.5, 2.5, 4]; r = 4.5 / sqrt(4.5 * 5)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(22.5))
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3])) and math.isnan(spearman([1], [2]))
    assert spearman(np.array([3.0, 1.0, 2.0]), torch.tensor([30.0, 10.0, 20.0])) == pytest.approx(1.0)


def test_subspace_conditioning_hand_computed():
    # rows of diag(3, 2, 1, 0) padded: singular values 3, 2, 1 (M = 6 tokens, H = 4)
    x = torch.zeros(6, 4)
    x[0, 0], x[1, 1], x[2, 2] = 3.0, 2.0, 1.0
    c = subspace_conditioning(x, 1)
    assert c["energy_at_k"] == pytest.approx(9 / 14)
    assert c["gap_at_k"] == pytest.approx(1.5)  # s_1 / s_2
    p = torch.tensor([9 / 14, 4 / 14, 1 / 14], dtype=torch.float64)
    assert c["effective_rank"] == pytest.approx(math.exp(float(-(p * p.log()).sum())))
    assert c["spans_all"] == 0.0
    assert subspace_conditioning(x, 2)["gap_at_k"] == pytest.approx(2.0)
    assert math.isnan(subspace_conditioning(x, 3)["gap_at_k"])  # s_4 = 0: no gap to speak of
    # k >= M - 1: the subspace holds every token
    full = subspace_conditioning(x[:3], 2)
    assert full["spans_all"] == 1.0 and full["energy_at_k"] == 1.0 and math.isnan(full["gap_at_k"])
    assert math.isnan(subspace_conditioning(torch.zeros(5, 4), 2)["energy_at_k"])
