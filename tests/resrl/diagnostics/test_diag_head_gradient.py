"""Closed-form output-head gradient inner products (Lemma 1) against autograd and hand-computed cases."""

import math

import pytest
import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

from resrl.algorithms.hidden import capture_hidden
from resrl.diagnostics.head_gradient import (
    chunked_gram,
    head_gradient_interference,
    interference_from_grams,
    logit_gradients,
    logit_gram_from_head,
)


def _pg_loss(logits, targets, coef, temperature):
    """-sum_i coef_i log softmax(z_i / T)[y_i]."""
    logp = torch.log_softmax(logits / temperature, dim=-1)
    return -(coef * logp[torch.arange(len(targets)), targets]).sum()


def _random_parts(dtype, seed=0, v=37, h=8, n_pos=5, n_neg=6):
    g = torch.Generator().manual_seed(seed)
    return dict(
        w=torch.randn(v, h, generator=g, dtype=dtype),
        hp=torch.randn(n_pos, h, generator=g, dtype=dtype),
        hn=torch.randn(n_neg, h, generator=g, dtype=dtype),
        yp=torch.randint(0, v, (n_pos,), generator=g),
        yn=torch.randint(0, v, (n_neg,), generator=g),
        ap=torch.rand(n_pos, generator=g, dtype=dtype) + 0.5,
        an=-(torch.rand(n_neg, generator=g, dtype=dtype) + 0.5),
    )


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_linear_head_closed_form_equals_autograd(dtype, rtol):
    p = _random_parts(dtype)
    temp = 0.7
    w = p["w"].clone().requires_grad_(True)
    (grad_pos,) = torch.autograd.grad(_pg_loss(p["hp"] @ w.T, p["yp"], p["ap"], temp), w)
    (grad_neg,) = torch.autograd.grad(_pg_loss(p["hn"] @ w.T, p["yn"], p["an"], temp), w)
    w0 = p["w"]
    res = head_gradient_interference(
        p["hp"],
        logit_gradients(p["hp"] @ w0.T, p["yp"], p["ap"], temp),
        p["hn"],
        logit_gradients(p["hn"] @ w0.T, p["yn"], p["an"], temp),
        vocab_chunk=5,
    )
    ref_cross = float((grad_pos * grad_neg).sum())
    scale = float(
        grad_pos.norm() * grad_neg.norm()
    )  # the cross term cancels: compare on the scale of its bound
    assert abs(res.cross - ref_cross) <= rtol * scale
    assert res.pos_sq == pytest.approx(float((grad_pos * grad_pos).sum()), rel=rtol)
    assert res.neg_sq == pytest.approx(float((grad_neg * grad_neg).sum()), rel=rtol)
    assert abs(res.cosine - ref_cross / scale) <= 2 * rtol
    assert abs(res.cross_per_pair - ref_cross / (5 * 6)) <= rtol * scale / (5 * 6)


def test_logit_gradients_equal_autograd_at_the_logits():
    p = _random_parts(torch.float64)
    z = (p["hp"] @ p["w"].T).requires_grad_(True)
    (ref,) = torch.autograd.grad(_pg_loss(z, p["yp"], p["ap"], 0.6), z)
    assert torch.allclose(logit_gradients(z.detach(), p["yp"], p["ap"], 0.6), ref, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 4, 37, 1000])
@pytest.mark.parametrize("with_bias", [False, True])
def test_streamed_gram_from_head_matches_explicit_gradients(chunk, with_bias):
    p = _random_parts(torch.float64, seed=3)
    h = torch.cat([p["hp"], p["hn"]]) * 3.0  # large logits: exercises the running-max rescaling
    y = torch.cat([p["yp"], p["yn"]])
    bias = torch.randn(p["w"].shape[0], dtype=torch.float64) if with_bias else None
    logits = h @ p["w"].T + (bias if bias is not None else 0.0)
    u = logit_gradients(logits, y, 1.0, 0.8)
    ku, lse = logit_gram_from_head(p["w"], h, y, 0.8, bias, vocab_chunk=chunk)
    assert torch.allclose(ku, u @ u.T, atol=1e-12)
    assert torch.allclose(lse, torch.logsumexp(logits / 0.8, dim=-1), atol=1e-12)
    assert torch.allclose(chunked_gram(u, chunk), u @ u.T, atol=1e-12)


def test_hand_computed_case():
    # g_pos.g_neg = 2, h_pos.h_neg = 3 -> cross 6; ||G_P||^2 = 1*5, ||G_N||^2 = 5*9 -> cos = 6/15
    res = head_gradient_interference(
        torch.tensor([[1.0, 2.0]]),
        torch.tensor([[1.0, 0.0]]),
        torch.tensor([[3.0, 0.0]]),
        torch.tensor([[2.0, 1.0]]),
    )
    assert res.cross == pytest.approx(6.0)
    assert (res.pos_sq, res.neg_sq) == (pytest.approx(5.0), pytest.approx(45.0))
    assert res.cosine == pytest.approx(0.4)
    assert res.logit_ip_mean == pytest.approx(2.0) and res.rep_ip_mean == pytest.approx(3.0)
    assert res.logit_cos_mean == pytest.approx(2.0 / math.sqrt(5.0))
    assert res.rep_cos_mean == pytest.approx(3.0 / (math.sqrt(5.0) * 3.0))


def test_orthogonal_representations_give_zero_interference():
    eye = torch.eye(4)
    h_pos, h_neg = eye[:2] * torch.tensor([[1.5], [-2.0]]), eye[2:] * 0.7
    g = torch.randn(4, 11, generator=torch.Generator().manual_seed(1))
    g_pos, g_neg = g[:2], g[2:]
    g_neg[0] = g_pos[0]  # the logit term is not zero ...
    res = head_gradient_interference(h_pos, g_pos, h_neg, g_neg)
    assert res.rep_ip_mean == 0.0 and res.rep_cos_mean == 0.0  # ... but the representation term is
    assert res.logit_ip_mean != 0.0
    assert res.cross == 0.0 and res.cosine == 0.0


def test_identical_tokens_with_opposite_signs_are_fully_opposed():
    h = torch.tensor([[0.3, -1.0, 2.0]])
    w = torch.randn(7, 3, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([4])
    res = head_gradient_interference(
        h, logit_gradients(h @ w.T, y, 1.0), h, logit_gradients(h @ w.T, y, -2.0)
    )
    assert res.cosine == pytest.approx(-1.0, abs=1e-6)
    assert res.cross == pytest.approx(-2.0 * res.pos_sq, rel=1e-6)


def test_zero_part_gives_nan_cosine_and_bad_split_is_rejected():
    kg, kh = torch.zeros(3, 3), torch.eye(3)
    assert math.isnan(interference_from_grams(kg, kh, 1).cosine)
    with pytest.raises(ValueError, match="n_pos"):
        interference_from_grams(kg, kh, 3)
    with pytest.raises(ValueError, match="temperature"):
        logit_gradients(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 1.0, 0.0)


def test_tiny_qwen3_head_closed_form_equals_autograd():
    """Two separate losses (positive part, negative part) through a real decoder; gradients w.r.t. lm_head only."""
    torch.manual_seed(0)
    cfg = Qwen3Config(
        vocab_size=61,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=64,
        tie_word_embeddings=False,
    )
    model = Qwen3ForCausalLM(cfg).double().eval()
    ids = torch.randint(0, 61, (4, 9))
    temp = 0.6
    pos_rows, neg_rows = torch.tensor([True, False, True, False]), torch.tensor([False, True, False, True])
    adv = torch.tensor([1.0, -0.5, 1.0, -1.5], dtype=torch.float64)

    def part_loss(rows):
        logits = model(input_ids=ids).logits[:, :-1]  # predicts ids[:, 1:]
        logp = torch.log_softmax(logits / temp, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)  # [4, 8]
        return -(adv[rows, None] * logp[rows]).sum()

    w = model.lm_head.weight
    (grad_pos,) = torch.autograd.grad(part_loss(pos_rows), w)
    (grad_neg,) = torch.autograd.grad(part_loss(neg_rows), w)
    with torch.no_grad(), capture_hidden(model, -1) as box:
        logits = model(input_ids=ids).logits[:, :-1]
    h = box["hidden"][:, :-1]  # [4, 8, 16]: the head input at the positions predicting ids[:, 1:]
    y = ids[:, 1:]
    coef = adv[:, None].expand(4, 8)
    g = logit_gradients(logits.reshape(-1, 61), y.reshape(-1), coef.reshape(-1), temp).reshape(4, 8, 61)
    res = head_gradient_interference(
        h[pos_rows].reshape(-1, 16),
        g[pos_rows].reshape(-1, 61),
        h[neg_rows].reshape(-1, 16),
        g[neg_rows].reshape(-1, 61),
        vocab_chunk=16,
    )
    assert res.cross == pytest.approx(float((grad_pos * grad_neg).sum()), rel=1e-5)
    assert res.pos_sq == pytest.approx(float((grad_pos * grad_pos).sum()), rel=1e-5)
    assert res.neg_sq == pytest.approx(float((grad_neg * grad_neg).sum()), rel=1e-5)
    # The streamed Gram from W and h gives the same numbers.
    hh = torch.cat([h[pos_rows].reshape(-1, 16), h[neg_rows].reshape(-1, 16)])
    yy = torch.cat([y[pos_rows].reshape(-1), y[neg_rows].reshape(-1)])
    cc = torch.cat([coef[pos_rows].reshape(-1), coef[neg_rows].reshape(-1)])
    ku, _ = logit_gram_from_head(w.detach(), hh, yy, temp, vocab_chunk=10)
    res2 = interference_from_grams(ku * cc[:, None] * cc[None, :], hh @ hh.T, 16)
    assert res2.cross == pytest.approx(float((grad_pos * grad_neg).sum()), rel=1e-5)
