"""step_diagnostics / before_update / after_update end to end on tiny-qwen3."""

import copy
import math

import pytest
import torch

import resrl.methods as methods
from resrl.diagnostics.step import DiagnosticsConfig, after_update, before_update, step_diagnostics
from resrl.models import load_policy
from resrl.rollout.base import Rollout
from resrl.rollout.batch import collate
from resrl.trainer.policy_forward import policy_forward


@pytest.fixture(scope="module")
def policy():
    return load_policy("tiny-qwen3")


def _group(tok, method, responses, scores, texts=None):
    prompt = tok("<|im_start|>user\nwhat is 1+1?<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    rs = [
        Rollout(0, i, prompt, r, texts[i] if texts else "", [0.0] * len(r)) for i, r in enumerate(responses)
    ]
    b = collate(rs, tok.pad_token_id)
    b["prompt_len"] = b["input_ids"].shape[1] - b["response_mask"].shape[1]
    b["scores"] = torch.tensor(scores, dtype=torch.float32)
    gid = torch.zeros(len(rs), dtype=torch.long)
    b["advantages"] = method.sequence_advantages(b["scores"], b["scores"] > 0, gid)
    return b


def _groups(tok, method):
    g = torch.Generator().manual_seed(0)
    resp = [torch.randint(0, 256, (n,), generator=g).tolist() for n in (9, 6, 11, 7)]
    texts = ["\\boxed{2} one two", "\\boxed{3} one", "\\boxed{2} two three", "nothing"]
    b1 = _group(tok, method, resp, [1.0, 0.0, 1.0, 0.0], texts)
    b2 = _group(tok, method, resp[::-1], [0.0, 0.0, 0.0, 0.0], texts[::-1])  # no positive: only diversity
    return [b1, b2], [texts, texts[::-1]]


@pytest.mark.parametrize("name", ["grpo", "nsr", "resrl"])
def test_end_to_end_values_are_finite(policy, name):
    model, tok = policy
    method = methods.build(name, **({"rank": 4} if name == "resrl" else {}))
    batches, texts = _groups(tok, method)
    cfg = DiagnosticsConfig(enabled=True, every=1, vocab_chunk=100)
    snap = before_update(model, batches, texts, 0.6, cfg, method=method)
    m = after_update(model, snap)  # no update in between: displacement is exactly zero
    assert m["diag/head/groups"] == 1.0 and m["diag/align/groups"] == 1.0 and m["diag/lld/groups"] == 1.0
    for key in (
        "cos",
        "cos_unweighted",
        "cross_per_pair",
        "logit_ip_mean",
        "logit_cos_mean",
        "rep_ip_mean",
        "rep_cos_mean",
    ):
        assert math.isfinite(m[f"diag/head/{key}"]), key
    assert -1.0 <= m["diag/head/cos"] <= 1.0
    assert m["diag/head/logprob_check"] < 1e-4  # the head is z = W h: closed form and model agree
    for key in (
        "cos",
        "in_subspace",
        "nn_cos",
        "energy",
        "weight",
        "spearman_cos_weight",
        "spearman_cos_overlap",
    ):
        assert math.isfinite(m[f"diag/align/{key}"]), key
    assert m["diag/lld/delta_pos"] == 0.0 and m["diag/lld/frac_groups"] == 1.0
    assert m["diag/pass@1"] == pytest.approx(0.25) and m["diag/pass@4"] == pytest.approx(0.5)  # (0.5 + 0) / 2
    assert m["diag/div/unique_answers"] == pytest.approx(2.0)
    assert m["diag/time_s"] > 0
    assert all(k.startswith("diag/") for k in m)
    assert not model.training
    if name == "nsr":  # NSR's negative advantages are all -1: weighted == unweighted
        assert m["diag/head/cos"] == pytest.approx(m["diag/head/cos_unweighted"])


def test_identical_positive_and_negative_responses(policy):
    """One response labelled both correct and wrong: maximal alignment, head gradients exactly opposed."""
    model, tok = policy
    method = methods.build("grpo")
    resp = torch.randint(0, 256, (12,), generator=torch.Generator().manual_seed(5)).tolist()
    batch = _group(tok, method, [resp, resp], [1.0, 0.0])
    m = step_diagnostics(model, [batch], None, 0.6, DiagnosticsConfig(enabled=True), method=method)
    assert m["diag/align/cos"] == pytest.approx(1.0, abs=1e-4)
    assert m["diag/align/in_subspace"] == pytest.approx(1.0, abs=1e-4)
    assert m["diag/head/cos"] == pytest.approx(-1.0, abs=1e-5)
    assert m["diag/head/cos_unweighted"] == pytest.approx(-1.0, abs=1e-5)
    assert m["diag/head/rep_cos_mean"] < 1.0  # pairs of different positions are not identical
    assert m["diag/div/edit_sim"] == 1.0 and m["diag/div/distinct_1"] < 1.0  # token units when texts is None
    assert "diag/div/answer_entropy" not in m


def test_lld_after_a_real_update(policy):
    model, tok = copy.deepcopy(policy[0]), policy[1]  # keep the shared fixture untouched
    method = methods.build("nsr")
    batches, texts = _groups(tok, method)
    cfg = DiagnosticsConfig(enabled=True, head_gradient=False, alignment=False, diversity=False)
    snap = before_update(model, batches, texts, 0.6, cfg, method=method)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    b = batches[0]
    out = policy_forward(model, b["input_ids"], b["attention_mask"], b["prompt_len"], 0.6)
    mask = b["response_mask"].bool()
    pos = b["scores"] > 0
    (-(out.log_probs * mask)[pos].sum() / mask[pos].sum()).backward()  # raise the positives
    opt.step()
    m = after_update(model, snap)
    assert set(m) == {
        "diag/lld/delta_pos",
        "diag/lld/delta_neg",
        "diag/lld/frac_groups",
        "diag/lld/frac_responses",
        "diag/lld/groups",
        "diag/time_s",
    }
    assert m["diag/lld/delta_pos"] > 0 and m["diag/lld/frac_groups"] == 0.0


def test_config_validation_and_schedule():
    with pytest.raises(ValueError, match="diagnostics.every"):
        DiagnosticsConfig(every=0)
    with pytest.raises(ValueError, match="diagnostics.units"):
        DiagnosticsConfig(units="chars")
    cfg = DiagnosticsConfig(enabled=True, every=5)
    assert [s for s in range(1, 12) if cfg.due(s)] == [1, 5, 10]
    assert not DiagnosticsConfig(enabled=False).due(1)


def test_config_from_mapping():
    assert DiagnosticsConfig.from_mapping({"enabled": True, "every": 3}).every == 3
    assert DiagnosticsConfig.from_mapping(None) == DiagnosticsConfig()
    with pytest.raises(ValueError, match="unknown diagnostics field"):
        DiagnosticsConfig.from_mapping({"evry": 3})


def test_undefined_values_are_left_out(policy):
    model, tok = policy
    method = methods.build("grpo")
    batch = _group(tok, method, [[40, 41, 42], [50, 51]], [0.0, 0.0])  # no positive response
    m = after_update(model, before_update(model, [batch], None, 0.6, DiagnosticsConfig(enabled=True), method))
    assert m["diag/head/groups"] == 0.0 and m["diag/align/groups"] == 0.0 and m["diag/lld/groups"] == 0.0
    assert not [k for k in m if k.startswith(("diag/head/cos", "diag/align/cos", "diag/lld/delta_pos"))]
    assert all(not math.isnan(v) for v in m.values())
