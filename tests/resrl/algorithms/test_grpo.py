import math

import pytest
import torch

from resrl.algorithms.grpo import PolicyLossConfig, clipped_policy_loss, grpo_advantages, kl_penalty


def test_grpo_advantages_hand_values():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    adv = grpo_advantages(rewards, groups, eps=0.0)
    # group 0: mean 0.5, unbiased std sqrt(4 * 0.25 / 3) = sqrt(1/3)
    a = 0.5 / math.sqrt(1.0 / 3.0)
    assert adv.tolist() == pytest.approx([a, -a, -a, a, 0, 0, 0, 0], abs=1e-6)


def test_grpo_advantages_without_std_and_interleaved_groups():
    rewards = torch.tensor([1.0, 3.0, 0.0, 5.0])
    groups = torch.tensor([9, 4, 9, 4])
    adv = grpo_advantages(rewards, groups, norm_std=False)
    assert adv.tolist() == pytest.approx([0.5, -1.0, -0.5, 1.0])


def test_singleton_group_has_zero_advantage():
    assert grpo_advantages(torch.tensor([1.0]), torch.tensor([0])).tolist() == [0.0]


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="group_ids"):
        grpo_advantages(torch.zeros(3), torch.zeros(4, dtype=torch.long))


def _loss(ratio, adv, cfg):
    logp = torch.log(torch.tensor([ratio], dtype=torch.float64))[None, :]
    old = torch.zeros_like(logp)
    return clipped_policy_loss(
        logp, old, torch.tensor([adv], dtype=torch.float64), torch.ones(1, 1, dtype=torch.bool), cfg
    )


@pytest.mark.parametrize(
    "ratio,adv,clip_high,expected,clipped",
    [
        (1.5, 1.0, 0.2, -1.2, 1.0),  # positive advantage, ratio above 1 + eps: clipped at 1.2
        (1.25, 1.0, 0.28, -1.25, 0.0),  # clip-higher leaves 1.25 inside the trust region
        (1.25, 1.0, 0.2, -1.2, 1.0),
        (0.5, -1.0, 0.2, 0.8, 1.0),  # negative advantage, ratio below 1 - eps: clipped at 0.8
        (0.5, 1.0, 0.2, -0.5, 0.0),  # positive advantage below 1 - eps: pessimistic min keeps 0.5
        (1.0, 1.0, 0.2, -1.0, 0.0),
    ],
)
def test_clipped_surrogate_hand_values(ratio, adv, clip_high, expected, clipped):
    loss, m = _loss(ratio, adv, PolicyLossConfig(clip_low=0.2, clip_high=clip_high))
    assert loss.item() == pytest.approx(expected)
    assert m["actor/pg_clipfrac"] == pytest.approx(clipped)


def test_dual_clip_caps_negative_advantage_loss():
    """Default = the release (veRL's compute_policy_loss: clip_ratio_c 3.0 always on); None turns it off."""
    loss, m = _loss(5.0, -1.0, PolicyLossConfig())
    assert loss.item() == pytest.approx(3.0)  # -A * min(5, 3) with A = -1
    assert m["actor/pg_clipfrac_dual"] == 1.0
    loss, _ = _loss(5.0, -1.0, PolicyLossConfig(dual_clip=None))
    assert loss.item() == pytest.approx(5.0)
    # dual clip caps only negative advantages: A = +1 at ratio 5 is clipped at 1.2 as usual
    assert _loss(5.0, 1.0, PolicyLossConfig())[0].item() == pytest.approx(-1.2)


def test_log_ratio_clamp_keeps_an_overflowing_ratio_finite():
    """log-ratio 100 overflows exp in float32 (inf); the release clamps it to 20 first. With dual clip off and a
    negative advantage, the unclamped loss is inf; clamped, it is -A * exp(20)."""
    logp, old = torch.tensor([[100.0]]), torch.zeros(1, 1)
    mask, adv = torch.ones(1, 1, dtype=torch.bool), torch.tensor([-1.0])
    loss, _ = clipped_policy_loss(
        logp, old, adv, mask, PolicyLossConfig(dual_clip=None, log_ratio_clamp=None)
    )
    assert math.isinf(loss.item())
    loss, _ = clipped_policy_loss(logp, old, adv, mask, PolicyLossConfig(dual_clip=None))
    assert loss.item() == pytest.approx(math.exp(20.0), rel=1e-6)
    loss, _ = clipped_policy_loss(logp, old, adv, mask, PolicyLossConfig())  # release: clamp and dual clip
    assert loss.item() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="log_ratio_clamp must be > 0"):
        PolicyLossConfig(log_ratio_clamp=0.0)


def test_gradient_of_unclipped_token_is_minus_advantage_times_ratio_over_tokens():
    logp = torch.tensor([[0.1, -0.05]], requires_grad=True)
    old = torch.zeros(1, 2)
    loss, _ = clipped_policy_loss(logp, old, torch.tensor([2.0]), torch.ones(1, 2, dtype=torch.bool))
    loss.backward()
    expected = [-2.0 * math.exp(0.1) / 2, -2.0 * math.exp(-0.05) / 2]
    assert logp.grad[0].tolist() == pytest.approx(expected, rel=1e-5)


def test_masked_tokens_get_no_gradient():
    logp = torch.zeros(1, 3, requires_grad=True)
    mask = torch.tensor([[1, 1, 0]], dtype=torch.bool)
    loss, _ = clipped_policy_loss(logp, torch.zeros(1, 3), torch.tensor([1.0]), mask)
    loss.backward()
    assert logp.grad[0, 2] == 0 and logp.grad[0, 0] != 0


def test_kl_estimators():
    logp = torch.tensor([[0.0]])
    ref = torch.tensor([[-1.0]])
    assert kl_penalty(logp, ref, "k1").item() == pytest.approx(1.0)
    assert kl_penalty(logp, ref, "k3").item() == pytest.approx(math.exp(-1.0) + 1.0 - 1.0)
    with pytest.raises(ValueError, match="k1, k3"):
        kl_penalty(logp, ref, "k2")


def test_kl_and_entropy_terms_are_added():
    logp = torch.zeros(1, 2)
    ref = torch.full((1, 2), -1.0)
    ent = torch.tensor([[2.0, 4.0]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    base, _ = clipped_policy_loss(logp, logp, torch.tensor([1.0]), mask)
    cfg = PolicyLossConfig(kl_coef=0.5, kl_type="k1", entropy_coef=0.1)
    total, m = clipped_policy_loss(logp, logp, torch.tensor([1.0]), mask, cfg, ref_log_probs=ref, entropy=ent)
    assert total.item() == pytest.approx(base.item() + 0.5 * 1.0 - 0.1 * 3.0)
    assert m["actor/kl_loss"] == pytest.approx(1.0)


def test_kl_without_reference_is_an_error():
    with pytest.raises(ValueError, match="ref_log_probs"):
        clipped_policy_loss(
            torch.zeros(1, 1),
            torch.zeros(1, 1),
            torch.ones(1),
            torch.ones(1, 1),
            PolicyLossConfig(kl_coef=0.1),
        )


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="dual_clip"):
        PolicyLossConfig(dual_clip=0.5)
