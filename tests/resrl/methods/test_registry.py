import pytest
import torch

import resrl.methods as methods
from resrl.algorithms.grpo import clipped_policy_loss
from resrl.algorithms.resrl import residual_token_weights, resrl_advantages
from resrl.methods.base import PolicyInputs
from tests.helpers import ToolFormatTokenizer

ALL = ["dapo", "empg", "flowrl", "grpo", "nsr", "ppo", "resrl", "rest", "w_reinforce"]


def test_registry_lists_every_method():
    assert methods.names() == ALL


def test_unknown_method_lists_valid_names():
    with pytest.raises(ValueError, match="grpo"):
        methods.get("ppo2")


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match="rnak"):
        methods.build("resrl", rnak=8)


@pytest.mark.parametrize(
    "name,fields,needle",
    [
        ("resrl", {"rank": 0}, "method.rank"),
        ("resrl", {"q_low": 0.8, "q_high": 0.2}, "method.q_low"),
        ("resrl", {"svd": "lanczos"}, "method.svd"),
        ("grpo", {"loss_agg_mode": "mean"}, "method.loss_agg_mode"),
        ("dapo", {"overlong_cache_len": 0}, "method.overlong_cache_len"),
        ("flowrl", {"beta": 0}, "method.beta"),
    ],
)
def test_bad_values_are_named(name, fields, needle):
    with pytest.raises(ValueError, match=needle):
        methods.build(name, **fields)


def test_paper_defaults():
    r = methods.build("resrl").cfg
    assert (r.rank, r.q_low, r.q_high, r.min_weight, r.pos_scale, r.layer) == (64, 0.2, 0.8, 0.1, 0.1, -2)
    assert (r.length_start, r.length_max, r.length_end_scale) == (3500, 4096, 0.7)
    d = methods.build("dapo").cfg
    assert (d.clip_low, d.clip_high, d.loss_agg_mode) == (0.2, 0.28, "token-mean")
    assert methods.build("w_reinforce").cfg.pos_weight == 0.1 and methods.build("nsr").cfg.pos_weight == 0.0
    assert methods.build("flowrl").cfg.beta == 15.0


def _batch(b=4, t=6, h=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    logp = (-torch.rand(b, t, generator=g)).requires_grad_(True)
    scores = torch.tensor([1.0, 0.0, 1.0, 0.0])
    return PolicyInputs(
        log_probs=logp,
        old_log_probs=logp.detach() + 0.01,
        response_mask=torch.ones(b, t, dtype=torch.bool),
        rewards=scores,
        scores=scores,
        group_ids=torch.tensor([0, 0, 0, 0]),
        advantages=torch.tensor([0.5, -0.5, 0.5, -0.5]),
        ref_log_probs=logp.detach() - 0.1,
        hidden=torch.randn(b, t, h, generator=g),
        log_z=torch.zeros(b, requires_grad=True),
    )


@pytest.mark.parametrize("name", ALL)
def test_every_method_gives_finite_differentiable_loss(name):
    batch = _batch()
    method = methods.build(name)
    if method.needs_entropy:  # what every backend does: it asks the method (EMPG reads them)
        batch.entropy = torch.rand(batch.log_probs.shape)
    width = batch.log_probs.shape[1]
    features = method.token_features(
        ToolFormatTokenizer(), [list(range(width))] * batch.log_probs.shape[0], 0, width
    )
    batch.extras.update(features or {})  # ResT reads the responses' ToolRL-format regions
    loss, metrics = method.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert batch.log_probs.grad is not None and batch.log_probs.grad.abs().sum() > 0
    assert all(isinstance(v, float) for v in metrics.values())


def test_resrl_loss_equals_clipped_loss_on_reweighted_advantages():
    batch = _batch()
    m = methods.build("resrl", rank=3)
    loss, metrics = m.loss(batch)
    w = residual_token_weights(batch.hidden, batch.response_mask, batch.is_positive, batch.group_ids, rank=3)
    adv = resrl_advantages(batch.advantages, w, batch.is_positive, 0.1)
    expected, _ = clipped_policy_loss(batch.log_probs, batch.old_log_probs, adv, batch.response_mask)
    assert loss.item() == pytest.approx(expected.item())
    assert 0.1 <= metrics["resrl/weight_mean"] <= 1.0


def test_pure_nsr_gives_no_gradient_to_positive_samples():
    batch = _batch()
    m = methods.build("nsr")
    batch.advantages = m.sequence_advantages(batch.rewards, batch.is_positive, batch.group_ids)
    loss, _ = m.loss(batch)
    loss.backward()
    g = batch.log_probs.grad
    assert torch.all(g[[0, 2]] == 0) and torch.all(g[[1, 3]] != 0)


def test_resrl_shapes_rewards_by_length_and_dapo_punishes_overlong():
    scores = torch.tensor([1.0, 1.0, 0.0])
    lengths = torch.tensor([100, 4096, 4096])
    assert methods.build("resrl").shape_rewards(scores, lengths).tolist() == pytest.approx([1.0, 0.7, 0.0])
    dapo = methods.build("dapo", overlong_max_len=100, overlong_cache_len=20)
    assert dapo.shape_rewards(scores, torch.tensor([80, 90, 120])).tolist() == pytest.approx([1.0, 0.5, -1.0])


def test_requirements_of_each_method():
    assert methods.build("resrl").hidden_layer == -2 and methods.build("grpo").hidden_layer is None
    assert methods.build("flowrl").needs_reference and set(methods.build("flowrl").build_modules(8)) == {
        "log_z"
    }
    assert not methods.build("grpo").needs_reference and methods.build("grpo", kl_coef=0.01).needs_reference
    assert methods.build("dapo").dynamic_sampling and not methods.build("grpo").dynamic_sampling
