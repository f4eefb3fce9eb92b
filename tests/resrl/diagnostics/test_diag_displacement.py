"""Likelihood displacement: hand-computed per-group changes, and its sign across real updates of a tiny model."""

import copy
import math

import pytest
import torch

from resrl.diagnostics.displacement import likelihood_displacement, mean_token_loglik, response_loglik
from resrl.models import load_policy
from resrl.rollout.base import Rollout
from resrl.rollout.batch import collate
from resrl.trainer.policy_forward import policy_forward


def test_hand_computed_groups():
    before = torch.tensor([-1.0, -2.0, -1.5, -3.0, -1.0, -0.5])
    after = torch.tensor([-0.5, -2.1, -1.0, -3.3, -1.2, -0.4])
    pos = torch.tensor([True, True, False, True, False, False])
    gid = torch.tensor([7, 7, 7, 9, 9, 11])  # group 11 has no positive response
    d = likelihood_displacement(before, after, pos, gid)
    assert d.group_delta_pos[:2].tolist() == pytest.approx([0.2, -0.3])  # mean(+0.5, -0.1); -0.3
    assert math.isnan(float(d.group_delta_pos[2]))
    assert d.group_delta_neg.tolist() == pytest.approx([0.5, -0.2, 0.1])
    assert d.lld_fraction == pytest.approx(0.5)
    assert d.response_lld_fraction == pytest.approx(2 / 3)
    m = d.metrics()
    assert m["diag/lld/delta_pos"] == pytest.approx(-0.05)
    assert m["diag/lld/groups"] == 2.0 and m["diag/lld/frac_groups"] == pytest.approx(0.5)


def test_no_change_counts_as_lld_and_shapes_are_checked():
    x = torch.tensor([-1.0, -2.0])
    assert (
        likelihood_displacement(x, x.clone(), torch.tensor([True, False]), torch.tensor([0, 0])).lld_fraction
        == 1.0
    )
    with pytest.raises(ValueError, match="must all be"):
        likelihood_displacement(x, x[:1], torch.tensor([True, False]), torch.tensor([0, 0]))


def test_mean_token_loglik_ignores_padding():
    lp = torch.tensor([[-1.0, -3.0, -100.0], [-2.0, -100.0, -100.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert mean_token_loglik(lp, mask).tolist() == [-2.0, -2.0]


def _batch(tokenizer):
    prompt = tokenizer("<|im_start|>user\nq<|im_end|>\n")["input_ids"]
    resp = [[40, 41, 42, 43], [50, 51, 52], [40, 41, 60, 61, 62], [70, 71]]
    rs = [Rollout(0, i, prompt, r, "", [0.0] * len(r)) for i, r in enumerate(resp)]
    b = collate(rs, tokenizer.pad_token_id)
    b["prompt_len"] = b["input_ids"].shape[1] - b["response_mask"].shape[1]
    return b


@pytest.fixture(scope="module")
def policy():
    return load_policy("tiny-qwen3")


@pytest.mark.parametrize("direction,expect_lld", [(+1.0, 0.0), (-1.0, 1.0)])
def test_sign_across_real_updates(policy, direction, expect_lld):
    """Ascending the positives' log-likelihood shows no LLD; descending it shows LLD in every group."""
    model, tok = copy.deepcopy(policy[0]), policy[1]
    batch = _batch(tok)
    pos = torch.tensor([True, False, True, False])
    before = response_loglik(model, batch, temperature=0.6)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(3):
        out = policy_forward(model, batch["input_ids"], batch["attention_mask"], batch["prompt_len"], 0.6)
        ll = mean_token_loglik(out.log_probs, batch["response_mask"])[pos].sum()
        opt.zero_grad()
        (-direction * ll).backward()
        opt.step()
    after = response_loglik(model, batch, temperature=0.6)
    d = likelihood_displacement(before, after, pos, torch.tensor([0, 0, 1, 1]))
    assert d.lld_fraction == expect_lld
    assert all((float(x) > 0) == (direction > 0) for x in d.group_delta_pos)
