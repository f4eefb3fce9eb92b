"""ResRL token weights (Sec. 3.2) on hand-built groups with known geometry."""

import pytest
import torch
import torch.nn.functional as F

from resrl.algorithms.resrl import (
    quantile_gate,
    residual_energy,
    residual_token_weights,
    resrl_advantages,
    top_right_singular_vectors,
)

H = 16


def _group(pos_tokens: torch.Tensor, neg_tokens: torch.Tensor):
    """One prompt group: one positive response and one negative response, right-padded to equal length."""
    t = max(len(pos_tokens), len(neg_tokens)) + 2  # two padding slots at least
    hidden = torch.zeros(2, t, H)
    mask = torch.zeros(2, t, dtype=torch.bool)
    hidden[0, : len(pos_tokens)] = pos_tokens
    hidden[1, : len(neg_tokens)] = neg_tokens
    hidden[:, -1] = 1000.0  # padding content must not matter
    mask[0, : len(pos_tokens)] = True
    mask[1, : len(neg_tokens)] = True
    return hidden, mask, torch.tensor([True, False]), torch.tensor([0, 0])


def test_quantile_gate_hand_values():
    w = quantile_gate(torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]), q_low=0.25, q_high=0.75, min_weight=0.1)
    assert w.tolist() == pytest.approx([0.1, 0.1, 0.55, 1.0, 1.0])


def test_quantile_gate_flat_range_gives_midpoint():
    w = quantile_gate(torch.tensor([2.0, 2.0, 2.0 + 1e-7]), min_weight=0.1)
    assert w.tolist() == pytest.approx([0.55, 0.55, 0.55])


def test_residual_energy_hand_value():
    basis = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    c = torch.tensor([[3.0, 2.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    assert residual_energy(c, basis).tolist() == pytest.approx([4.0 / 4, 0.0])


def test_in_subspace_negatives_get_min_weight_far_ones_get_one():
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(8, H, generator=g)
    far = torch.randn(1, H, generator=g).repeat(5, 1)  # identical off-subspace tokens
    neg = torch.cat([pos[:5], far])  # five copies of positive tokens (residual 0), five far tokens
    hidden, mask, is_pos, gid = _group(pos, neg)
    # rank >= M - 1 = 7: the subspace spans every centred positive token exactly
    w = residual_token_weights(hidden, mask, is_pos, gid, rank=64, svd="exact")
    assert w[1, :5].tolist() == pytest.approx([0.1] * 5, abs=1e-5)
    assert w[1, 5:10].tolist() == pytest.approx([1.0] * 5, abs=1e-5)
    assert torch.all(w[0] == 1.0)  # positive tokens
    assert torch.all(w[1, 10:] == 1.0)  # padding


def test_weights_are_between_min_weight_and_one_and_monotone_in_energy():
    g = torch.Generator().manual_seed(1)
    hidden = torch.randn(4, 12, H, generator=g)
    mask = torch.ones(4, 12, dtype=torch.bool)
    is_pos = torch.tensor([True, True, False, False])
    w = residual_token_weights(
        hidden, mask, is_pos, torch.zeros(4, dtype=torch.long), rank=3, svd="exact", min_weight=0.2
    )
    neg = w[2:].flatten()
    assert neg.min() >= 0.2 - 1e-6 and neg.max() <= 1.0 + 1e-6
    assert (neg == 1.0).any() and (neg <= 0.2 + 1e-6).any()


def test_invariant_to_token_and_response_order_when_all_positive_tokens_are_used():
    g = torch.Generator().manual_seed(2)
    hidden = torch.randn(4, 10, H, generator=g)
    mask = torch.ones(4, 10, dtype=torch.bool)
    mask[1, 7:] = False
    is_pos = torch.tensor([True, True, False, False])
    gid = torch.tensor([5, 5, 5, 5])
    for svd in ("exact", "randomized"):
        w = residual_token_weights(hidden, mask, is_pos, gid, rank=4, svd=svd)
        rows = torch.tensor([1, 0, 3, 2])
        cols = torch.randperm(10, generator=g)
        h2, m2 = hidden[rows][:, cols], mask[rows][:, cols]
        w2 = residual_token_weights(h2, m2, is_pos[rows], gid, rank=4, svd=svd)
        assert torch.allclose(w2, w[rows][:, cols], atol=1e-4), svd


def test_invariant_to_scaling_hidden_states():
    g = torch.Generator().manual_seed(3)
    hidden = torch.randn(4, 9, H, generator=g)
    mask = torch.ones(4, 9, dtype=torch.bool)
    is_pos = torch.tensor([True, False, True, False])
    gid = torch.zeros(4, dtype=torch.long)
    w = residual_token_weights(hidden, mask, is_pos, gid, rank=5, svd="exact")
    w_scaled = residual_token_weights(hidden * 37.5, mask, is_pos, gid, rank=5, svd="exact")
    assert torch.allclose(w, w_scaled, atol=1e-4)


@pytest.mark.parametrize(
    "is_pos,n_pos_tokens",
    [
        ([False, False], 8),  # no positive response
        ([True, True], 8),  # no negative response
        ([True, False], 3),  # fewer than 4 positive tokens
    ],
)
def test_edge_groups_get_weight_one(is_pos, n_pos_tokens):
    g = torch.Generator().manual_seed(4)
    hidden = torch.randn(2, 8, H, generator=g)
    mask = torch.ones(2, 8, dtype=torch.bool)
    mask[0, n_pos_tokens:] = False
    w = residual_token_weights(hidden, mask, torch.tensor(is_pos), torch.tensor([0, 0]))
    assert torch.all(w == 1.0)


def test_groups_are_independent():
    g = torch.Generator().manual_seed(5)
    hidden = torch.randn(4, 8, H, generator=g)
    mask = torch.ones(4, 8, dtype=torch.bool)
    is_pos = torch.tensor([True, False, True, True])  # group 1 has no negative
    gid = torch.tensor([0, 0, 1, 1])
    w = residual_token_weights(hidden, mask, is_pos, gid, rank=4, svd="exact")
    alone = residual_token_weights(hidden[:2], mask[:2], is_pos[:2], gid[:2], rank=4, svd="exact")
    assert torch.allclose(w[:2], alone)
    assert torch.all(w[2:] == 1.0)


def _low_rank_positive_group(rank: int, seed: int):
    """Positives in a rank-``rank`` subspace orthogonal to the all-ones vector: LayerNorm only rescales
    them, so the centred, normalised positives have exactly that rank."""
    g = torch.Generator().manual_seed(seed)
    basis = torch.linalg.qr(torch.randn(H, rank + 1, generator=g)).Q
    ones = torch.ones(H) / H**0.5
    basis = basis - ones[:, None] * (ones @ basis)[None, :]
    basis = torch.linalg.qr(basis).Q[:, :rank]
    pos = torch.randn(40, rank, generator=g) @ basis.T
    neg = torch.randn(30, H, generator=g)
    hidden = torch.zeros(2, 40, H)
    hidden[0], hidden[1, :30] = pos, neg
    mask = torch.zeros(2, 40, dtype=torch.bool)
    mask[0], mask[1, :30] = True, True
    return hidden, mask


def test_exact_and_randomized_svd_agree_on_low_rank_data():
    hidden, mask = _low_rank_positive_group(rank=3, seed=6)
    args = (hidden, mask, torch.tensor([True, False]), torch.tensor([0, 0]))
    w_exact = residual_token_weights(*args, rank=3, svd="exact")
    w_rand = residual_token_weights(
        *args, rank=3, svd="randomized", generator=torch.Generator().manual_seed(9)
    )
    assert torch.allclose(w_exact, w_rand, atol=1e-4)
    assert (w_exact[1, :30] < 1.0).any()  # the comparison is not trivial


def test_randomized_subspace_matches_exact_projector():
    x = torch.randn(50, 6) @ torch.randn(6, 20)
    v_exact = top_right_singular_vectors(x, 6, "exact")
    v_rand = top_right_singular_vectors(x, 6, "randomized")
    assert torch.allclose(v_exact @ v_exact.T, v_rand @ v_rand.T, atol=1e-4)


def test_weights_carry_no_gradient_and_are_float32():
    hidden = torch.randn(2, 8, H, dtype=torch.float64, requires_grad=True)
    w = residual_token_weights(
        hidden, torch.ones(2, 8, dtype=torch.bool), torch.tensor([True, False]), torch.tensor([0, 0])
    )
    assert not w.requires_grad and w.grad_fn is None and w.dtype == torch.float32


def test_subsampling_positive_tokens_is_seeded_uniform_or_even():
    """Above max_pos_tokens the paper samples positive tokens uniformly (the release: randperm); the same seeded
    generator gives the same sample, another seed another one; ``even`` (evenly spaced) needs no generator."""
    g = torch.Generator().manual_seed(7)
    hidden = torch.randn(2, 50, H, generator=g)
    mask = torch.ones(2, 50, dtype=torch.bool)
    args = (hidden, mask, torch.tensor([True, False]), torch.tensor([0, 0]))
    kw = dict(rank=4, max_pos_tokens=16)
    seeded = [
        residual_token_weights(*args, **kw, generator=torch.Generator().manual_seed(s)) for s in (1, 1, 2)
    ]
    assert torch.equal(seeded[0], seeded[1]) and not torch.equal(seeded[0], seeded[2])
    even = [residual_token_weights(*args, **kw, pos_sampling="even") for _ in range(2)]
    assert torch.equal(even[0], even[1]) and not torch.equal(even[0], seeded[0])
    torch.manual_seed(3)
    a = residual_token_weights(*args, **kw)  # no generator: the global RNG, as the release's randperm
    torch.manual_seed(3)
    assert torch.equal(a, residual_token_weights(*args, **kw))
    full = residual_token_weights(*args, rank=4, max_pos_tokens=4096)
    assert not torch.equal(seeded[0], full)  # sampling really used a subset
    with pytest.raises(ValueError, match="unknown pos_sampling 'random'"):
        residual_token_weights(*args, **kw, pos_sampling="random")


def test_uniform_sample_draws_each_token_with_equal_probability():
    """The sample is a uniform draw without replacement: over many seeds each of 40 rows is kept ~10/40 of the time."""
    from resrl.algorithms.resrl import _sample_rows

    counts = torch.zeros(40)
    for seed in range(2000):
        counts[_sample_rows(40, 10, "uniform", torch.Generator().manual_seed(seed), torch.device("cpu"))] += 1
    freq = counts / 2000
    assert freq.min() > 0.2 and freq.max() < 0.3  # 0.25 expected; binomial sd ~0.0097


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"rank": 0}, "rank"),
        ({"q_low": 0.9, "q_high": 0.1}, "q_low"),
        ({"min_weight": 1.5}, "min_weight"),
        ({"svd": "qr"}, "svd"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        residual_token_weights(
            torch.zeros(1, 1, 4),
            torch.ones(1, 1, dtype=torch.bool),
            torch.tensor([True]),
            torch.tensor([0]),
            **kwargs,
        )


def test_resrl_advantages_hand_values():
    adv = torch.tensor([1.0, -0.5])
    weights = torch.tensor([[1.0, 1.0], [0.2, 0.7]])
    out = resrl_advantages(adv, weights, torch.tensor([True, False]), pos_scale=0.1)
    assert out.tolist() == [pytest.approx([0.1, 0.1]), pytest.approx([-0.1, -0.35])]


def test_invariant_to_per_token_scale_and_shift_through_layernorm():
    g = torch.Generator().manual_seed(8)
    hidden = torch.randn(4, 9, H, generator=g)
    mask = torch.ones(4, 9, dtype=torch.bool)
    is_pos = torch.tensor([True, False, True, False])
    gid = torch.zeros(4, dtype=torch.long)
    scale = torch.rand(4, 9, 1, generator=g) * 5 + 0.5
    shift = torch.randn(4, 9, 1, generator=g) * 3
    w = residual_token_weights(hidden, mask, is_pos, gid, rank=5, svd="exact")
    w2 = residual_token_weights(hidden * scale + shift, mask, is_pos, gid, rank=5, svd="exact")
    assert torch.allclose(w, w2, atol=1e-4)


def test_conditioning_from_the_svd_matches_the_full_spectrum():
    """The energy at rank k and the gap s_k / s_(k+1) that ResRL's own SVD gives (exact, and randomized with its
    oversampled probes) equal the diagnostics' computation from every singular value."""
    from resrl.algorithms.resrl import conditioning_statistics, residual_token_weights_and_conditioning
    from resrl.diagnostics.alignment import subspace_conditioning

    g = torch.Generator().manual_seed(0)
    b, t, h = 4, 12, 16
    # positives: energy concentrated in 3 directions plus noise; negatives: anything
    basis = torch.randn(3, h, generator=g) * torch.tensor([[6.0], [3.0], [1.5]])
    hidden = torch.randn(b, t, h, generator=g) * 0.3 + torch.randn(b, t, 3, generator=g) @ basis
    mask = torch.ones(b, t, dtype=torch.bool)
    pos = torch.tensor([True, True, False, False])
    groups = torch.zeros(b, dtype=torch.long)
    tokens = F.layer_norm(hidden[pos][mask[pos]], (h,))
    expected = subspace_conditioning(tokens - tokens.mean(0), 3)
    for svd in ("exact", "randomized"):
        w, cond = residual_token_weights_and_conditioning(hidden, mask, pos, groups, rank=3, svd=svd)
        assert len(cond) == 1 and cond[0]["spans_all"] == 0.0
        assert cond[0]["energy_at_k"] == pytest.approx(expected["energy_at_k"], rel=1e-4)
        assert cond[0]["gap_at_k"] == pytest.approx(expected["gap_at_k"], rel=1e-3)
        assert torch.equal(w, residual_token_weights(hidden, mask, pos, groups, rank=3, svd=svd))
    stats = conditioning_statistics(cond + [{"energy_at_k": 1.0, "gap_at_k": float("nan"), "spans_all": 1.0}])
    assert stats["resrl/subspace_spans_all"] == 0.5
    assert stats["resrl/subspace_gap_at_k"] == pytest.approx(expected["gap_at_k"], rel=1e-3)  # NaN left out
