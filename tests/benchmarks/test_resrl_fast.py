"""The fast ResRL weights agree with the reference ``residual_token_weights`` (and with hand values)."""

import pytest
import torch

from benchmarks.resrl_fast import residual_token_weights_fast, top_right_singular_vectors_gram
from resrl.algorithms.resrl import residual_token_weights

H = 24


@pytest.fixture(autouse=True)
def _one_thread():
    """The reference's QR/SVD calls on tiny matrices stall with 2 threads on a busy machine; results do not
    depend on the thread count, so run this module single-threaded."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _anisotropic_batch(seed: int, groups: int, per_group: int, t: int, width: int = H):
    """Hidden states with a decaying spectrum and a shared offset (like a language model's), ragged lengths,
    padding filled with large junk, group ids that are neither dense nor contiguous."""
    g = torch.Generator().manual_seed(seed)
    b = groups * per_group
    rot = torch.linalg.qr(torch.randn(width, width, generator=g)).Q
    scales = torch.arange(1, width + 1, dtype=torch.float32) ** -0.7
    hidden = (torch.randn(b, t, width, generator=g) * scales) @ rot.T * 4 + torch.randn(width, generator=g)
    lengths = torch.randint(t // 3, t + 1, (b,), generator=g)
    mask = torch.arange(t)[None, :] < lengths[:, None]
    hidden[~mask] = 1000.0
    gid = (torch.arange(b) % groups) * 7 + 3  # interleaved groups, ids 3, 10, 17, ...
    is_pos = torch.rand(b, generator=g) < 0.5
    return hidden, mask, is_pos, gid


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("svd", ["exact", "randomized"])
def test_matches_reference_on_random_ragged_groups(seed, svd):
    hidden, mask, is_pos, gid = _anisotropic_batch(seed, groups=5, per_group=4, t=30)
    ref = residual_token_weights(hidden, mask, is_pos, gid, rank=6, svd=svd)
    fast = residual_token_weights_fast(hidden, mask, is_pos, gid, rank=6, svd=svd)
    assert torch.allclose(fast, ref, atol=1e-4, rtol=0), (fast - ref).abs().max()
    neg_tokens = mask & ~is_pos[:, None]
    assert (ref[neg_tokens] < 0.99).any()  # the comparison is not between two all-ones tensors
    assert torch.all(fast[~mask] == 1.0) and torch.all(fast[is_pos] == 1.0)


def test_randomized_with_a_generator_makes_the_same_draws_as_the_reference():
    hidden, mask, is_pos, gid = _anisotropic_batch(3, groups=4, per_group=4, t=40)
    kw = dict(rank=5, max_pos_tokens=20, svd="randomized")  # sampling and probes both draw from the generator
    ref = residual_token_weights(hidden, mask, is_pos, gid, generator=torch.Generator().manual_seed(11), **kw)
    fast = residual_token_weights_fast(
        hidden, mask, is_pos, gid, generator=torch.Generator().manual_seed(11), **kw
    )
    other = residual_token_weights_fast(
        hidden, mask, is_pos, gid, generator=torch.Generator().manual_seed(12), **kw
    )
    assert torch.allclose(fast, ref, atol=1e-4, rtol=0)
    assert not torch.allclose(other, ref, atol=1e-3)  # a different generator really changes the result


@pytest.mark.parametrize("svd", ["exact", "randomized"])
def test_max_pos_tokens_even_sampling_without_generator_matches_reference(svd):
    hidden, mask, is_pos, gid = _anisotropic_batch(4, groups=3, per_group=4, t=40)
    kw = dict(rank=4, max_pos_tokens=12, svd=svd, pos_sampling="even")
    ref = residual_token_weights(hidden, mask, is_pos, gid, **kw)
    fast = residual_token_weights_fast(hidden, mask, is_pos, gid, **kw)
    full = residual_token_weights_fast(hidden, mask, is_pos, gid, rank=4, max_pos_tokens=4096, svd=svd)
    assert torch.allclose(fast, ref, atol=1e-4, rtol=0)
    assert not torch.allclose(fast, full, atol=1e-3)  # the subset was really used


@pytest.mark.parametrize(
    "is_pos,pos_len,neg_len,min_pos",
    [
        ([False, False], 8, 8, 4),  # no positive response
        ([True, True], 8, 8, 4),  # no negative response
        ([True, False], 3, 8, 4),  # fewer than 4 positive tokens
        ([True, False], 1, 8, 1),  # one positive token: rank min(rank, M - 1) = 0
        ([True, False], 8, 0, 4),  # a negative response with no token
    ],
)
def test_edge_groups_get_weight_one_like_the_reference(is_pos, pos_len, neg_len, min_pos):
    g = torch.Generator().manual_seed(5)
    hidden = torch.randn(2, 8, H, generator=g)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[0, :pos_len], mask[1, :neg_len] = True, True
    args = (hidden, mask, torch.tensor(is_pos), torch.tensor([4, 4]))
    fast = residual_token_weights_fast(*args, min_pos_tokens=min_pos)
    assert torch.equal(fast, torch.ones(2, 8))
    assert torch.equal(fast, residual_token_weights(*args, min_pos_tokens=min_pos))


def test_edge_groups_beside_a_normal_group_leave_it_unchanged():
    hidden, mask, is_pos, gid = _anisotropic_batch(6, groups=1, per_group=4, t=20)
    is_pos = torch.tensor([True, False, True, False])
    extra_h = torch.randn(3, 20, H)
    extra_mask = torch.ones(3, 20, dtype=torch.bool)
    h2 = torch.cat([extra_h, hidden])
    m2 = torch.cat([extra_mask, mask])
    p2 = torch.cat([torch.tensor([True, True, False]), is_pos])  # group 0: no negative; group 1: no positive
    g2 = torch.cat([torch.tensor([0, 0, 1]), gid])
    for svd in ("exact", "randomized"):
        alone = residual_token_weights_fast(hidden, mask, is_pos, gid, rank=4, svd=svd)
        both = residual_token_weights_fast(h2, m2, p2, g2, rank=4, svd=svd)
        assert torch.equal(both[:3], torch.ones(3, 20))
        assert torch.allclose(both[3:], alone, atol=1e-6)
        assert torch.allclose(both, residual_token_weights(h2, m2, p2, g2, rank=4, svd=svd), atol=1e-4)


def test_in_subspace_negatives_get_min_weight_and_far_ones_get_one():
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(8, H, generator=g)
    far = torch.randn(1, H, generator=g).repeat(5, 1)
    hidden = torch.zeros(2, 12, H)
    mask = torch.zeros(2, 12, dtype=torch.bool)
    hidden[0, :8], mask[0, :8] = pos, True
    hidden[1, :5], hidden[1, 5:10], mask[1, :10] = pos[:5], far, True
    # rank >= M - 1 = 7: the subspace spans every centred positive token, so copies of them have residual 0
    w = residual_token_weights_fast(
        hidden, mask, torch.tensor([True, False]), torch.tensor([0, 0]), svd="exact"
    )
    assert w[1, :5].tolist() == pytest.approx([0.1] * 5, abs=1e-5)
    assert w[1, 5:10].tolist() == pytest.approx([1.0] * 5, abs=1e-5)
    assert torch.all(w[0] == 1.0) and torch.all(w[1, 10:] == 1.0)


def test_flat_residual_range_gives_the_midpoint_weight():
    g = torch.Generator().manual_seed(9)
    hidden = torch.zeros(2, 10, H)
    hidden[0] = torch.randn(10, H, generator=g)
    hidden[1, :6] = torch.randn(1, H, generator=g)  # six identical negative tokens: one residual energy
    mask = torch.zeros(2, 10, dtype=torch.bool)
    mask[0], mask[1, :6] = True, True
    args = (hidden, mask, torch.tensor([True, False]), torch.tensor([0, 0]))
    for svd in ("exact", "randomized"):
        w = residual_token_weights_fast(*args, rank=3, min_weight=0.2, svd=svd)
        assert w[1, :6].tolist() == pytest.approx([0.6] * 6)  # (1 + 0.2) / 2
        assert torch.equal(w, residual_token_weights(*args, rank=3, min_weight=0.2, svd=svd))


def test_gram_singular_vectors_hand_values_both_orientations():
    tall = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, -2.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])  # M > H
    v = top_right_singular_vectors_gram(tall, 2)
    assert (v @ v.T).tolist() == [pytest.approx(r, abs=1e-6) for r in ([1, 0, 0], [0, 0, 0], [0, 0, 1])]
    wide = torch.tensor([[0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]])  # M < H: through X X^T
    v = top_right_singular_vectors_gram(wide, 2)
    assert v.shape == (4, 2)
    assert (v @ v.T).diagonal().tolist() == pytest.approx([0.0, 1.0, 0.0, 1.0], abs=1e-6)
    assert torch.allclose(v.T @ v, torch.eye(2), atol=1e-6)


def test_gram_drops_directions_without_energy():
    rank_one = torch.tensor([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]])  # rank 1; k = 2 asks for a direction it lacks
    v = top_right_singular_vectors_gram(rank_one, 2)
    assert v.shape == (3, 1)
    expected = torch.tensor([1.0, 2.0, 0.0]) / 5**0.5
    assert abs(float(v[:, 0] @ expected)) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="k must be"):
        top_right_singular_vectors_gram(rank_one, 3)


def test_weights_carry_no_gradient_are_float32_and_accept_bfloat16():
    hidden, mask, is_pos, gid = _anisotropic_batch(7, groups=2, per_group=4, t=16)
    h64 = hidden.double().requires_grad_()
    w = residual_token_weights_fast(h64, mask, is_pos, gid, rank=4)
    assert not w.requires_grad and w.dtype == torch.float32 and w.shape == mask.shape
    wb = residual_token_weights_fast(hidden.bfloat16(), mask, is_pos, gid, rank=4, svd="exact")
    ref_b = residual_token_weights(hidden.bfloat16(), mask, is_pos, gid, rank=4, svd="exact")
    assert wb.dtype == torch.float32 and torch.allclose(wb, ref_b, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"rank": 0}, "rank"),
        ({"max_pos_tokens": 1}, "max_pos_tokens"),
        ({"q_low": 0.9, "q_high": 0.1}, "q_low"),
        ({"min_weight": 1.5}, "min_weight"),
        ({"svd": "qr"}, "svd"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        residual_token_weights_fast(
            torch.zeros(1, 1, 4),
            torch.ones(1, 1, dtype=torch.bool),
            torch.tensor([True]),
            torch.tensor([0]),
            **kwargs,
        )


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="hidden must be"):
        residual_token_weights_fast(
            torch.zeros(2, 3, 4),
            torch.ones(2, 4, dtype=torch.bool),
            torch.tensor([True, False]),
            torch.tensor([0, 0]),
        )


def test_lapack_threads_lowers_then_restores_the_thread_count():
    from benchmarks.resrl_fast import lapack_threads

    torch.set_num_threads(2)
    with lapack_threads(torch.device("cpu"), threads=1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), lapack_threads(torch.device("cpu"), threads=1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2  # restored after an error too


def test_strided_hidden_slice_like_the_trainer_passes_it():
    """policy_forward hands over hooked[:, P - 1 : P - 1 + T], a non-contiguous view."""
    full, mask, is_pos, gid = _anisotropic_batch(8, groups=2, per_group=4, t=30)
    hidden = full[:, 4:26]
    mask = mask[:, 4:26]
    assert not hidden.is_contiguous()
    ref = residual_token_weights(hidden, mask, is_pos, gid, rank=4, svd="exact")
    fast = residual_token_weights_fast(hidden, mask, is_pos, gid, rank=4, svd="exact")
    assert torch.allclose(fast, ref, atol=1e-4, rtol=0)
    assert torch.allclose(
        fast, residual_token_weights_fast(hidden.contiguous(), mask, is_pos, gid, rank=4, svd="exact")
    )
