"""HFSampler on the tiny random Qwen3: shapes, seeding, log-probs, EOS, stop strings, greedy."""

from __future__ import annotations

import pytest
import torch

from resrl.models import format_chat, load_policy
from resrl.rollout import HFSampler, Sampler, SamplingParams, collate
from resrl.rollout.hf_sampler import top_p_mask


@pytest.fixture(scope="module")
def tiny():
    return load_policy("tiny-qwen3")


@pytest.fixture(scope="module")
def prompts(tiny):
    _, tok = tiny
    texts = ["What is 2 + 3?", "hi", "Count to ten, please."]
    return [format_chat(tok, [{"role": "user", "content": t}], enable_thinking=False) for t in texts]


def reforward_logprobs(model, batch, temperature: float) -> torch.Tensor:
    """log softmax(logits / temperature) at the response tokens of a collated batch: [B, T]."""
    T = batch["response_mask"].shape[1]
    P = batch["input_ids"].shape[1] - T
    with torch.no_grad():
        logits = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            position_ids=batch["position_ids"],
        ).logits
    logp = torch.log_softmax(logits[:, P - 1 : -1].float() / temperature, dim=-1)
    return logp.gather(2, batch["input_ids"][:, P:, None]).squeeze(2)


def test_is_a_sampler_with_n_per_prompt_prompt_major(tiny, prompts):
    model, tok = tiny
    sampler = HFSampler(model, tok, batch_size=4)
    assert isinstance(sampler, Sampler)
    out = sampler.generate(prompts, SamplingParams(n=2, max_new_tokens=10, seed=0))
    assert [(r.prompt_index, r.sample_index) for r in out] == [(p, s) for p in range(3) for s in range(2)]
    for r in out:
        assert r.prompt_ids == tok(prompts[r.prompt_index], add_special_tokens=False)["input_ids"]
        assert 1 <= r.num_tokens <= 10
        assert len(r.logprobs) == r.num_tokens
        assert all(lp <= 0 for lp in r.logprobs)
        assert r.finish_reason in ("stop", "length")
        if r.finish_reason == "length":
            assert r.num_tokens == 10 and tok.eos_token_id not in r.response_ids


def test_same_seed_same_samples_other_seed_differs(tiny, prompts):
    model, tok = tiny
    sampler = HFSampler(model, tok, batch_size=4)
    params = SamplingParams(n=2, max_new_tokens=12, temperature=1.0, seed=5)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = sampler.generate(prompts, params)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's RNG stream is untouched
    b = sampler.generate(prompts, params)
    c = sampler.generate(prompts, SamplingParams(n=2, max_new_tokens=12, temperature=1.0, seed=6))
    assert [r.response_ids for r in a] == [r.response_ids for r in b]
    assert [r.logprobs for r in a] == [r.logprobs for r in b]
    assert [r.response_ids for r in a] != [r.response_ids for r in c]
    # Two samples of the same prompt differ (with near-uniform next-token distributions over 261 tokens).
    assert a[0].response_ids != a[1].response_ids


@pytest.mark.parametrize("temperature", [0.6, 1.0, 1.7])
def test_logprobs_equal_reforward_at_temperature(tiny, prompts, temperature):
    model, tok = tiny
    out = HFSampler(model, tok, batch_size=4).generate(
        prompts, SamplingParams(n=2, max_new_tokens=16, temperature=temperature, seed=1)
    )
    batch = collate(out, tok.pad_token_id)
    ref = reforward_logprobs(model, batch, temperature)
    mask = batch["response_mask"].bool()
    assert torch.allclose(ref[mask], batch["old_logprobs"][mask], atol=1e-4)
    # Sanity of the comparison itself: the untempered distribution gives different numbers.
    if temperature != 1.0:
        untempered = reforward_logprobs(model, batch, 1.0)
        assert not torch.allclose(untempered[mask], batch["old_logprobs"][mask], atol=1e-2)


def test_top_p_logprobs_are_renormalised_over_the_nucleus(tiny, prompts):
    model, tok = tiny
    out = HFSampler(model, tok, batch_size=3).generate(
        prompts, SamplingParams(n=1, max_new_tokens=8, temperature=0.8, top_p=0.5, seed=2)
    )
    batch = collate(out, tok.pad_token_id)
    T = batch["response_mask"].shape[1]
    P = batch["input_ids"].shape[1] - T
    with torch.no_grad():
        logits = model(**{k: batch[k] for k in ("input_ids", "attention_mask", "position_ids")}).logits
    scaled = logits[:, P - 1 : -1].float() / 0.8
    nucleus = torch.stack([top_p_mask(scaled[:, t], 0.5) for t in range(T)], dim=1)
    ref = torch.log_softmax(nucleus, -1).gather(2, batch["input_ids"][:, P:, None]).squeeze(2)
    mask = batch["response_mask"].bool()
    assert torch.isfinite(ref[mask]).all()  # every sampled token lies inside its nucleus
    assert torch.allclose(ref[mask], batch["old_logprobs"][mask], atol=1e-4)


def test_top_p_mask_hand_case():
    probs = torch.tensor([[0.2, 0.5, 0.3]])
    logits = probs.log()
    kept = torch.isfinite(top_p_mask(logits, 0.7))
    assert kept.tolist() == [[False, True, True]]  # 0.5 + 0.3 reaches 0.7
    assert torch.isfinite(top_p_mask(logits, 0.5)).tolist() == [[False, True, False]]
    assert torch.isfinite(top_p_mask(logits, 0.81)).tolist() == [[True, True, True]]
    assert torch.equal(top_p_mask(logits, 1.0), logits)


def test_greedy_takes_the_argmax(tiny, prompts):
    model, tok = tiny
    out = HFSampler(model, tok, batch_size=3).generate(
        prompts, SamplingParams(n=1, max_new_tokens=8, temperature=0.0)
    )
    batch = collate(out, tok.pad_token_id)
    T = batch["response_mask"].shape[1]
    P = batch["input_ids"].shape[1] - T
    with torch.no_grad():
        logits = model(**{k: batch[k] for k in ("input_ids", "attention_mask", "position_ids")}).logits
    logp = torch.log_softmax(logits[:, P - 1 : -1].float(), -1)
    mask = batch["response_mask"].bool()
    assert torch.equal(logp.argmax(-1)[mask], batch["input_ids"][:, P:][mask])
    taken = logp.gather(2, batch["input_ids"][:, P:, None]).squeeze(2)
    assert torch.allclose(taken[mask], batch["old_logprobs"][mask], atol=1e-4)


def test_eos_ends_the_response_and_is_kept(tiny, prompts):
    model, tok = tiny
    eos = set(range(0, 256, 2))  # half of the byte tokens: the random model hits one within a few steps
    out = HFSampler(model, tok, batch_size=4, eos_token_ids=sorted(eos)).generate(
        prompts, SamplingParams(n=2, max_new_tokens=24, temperature=1.0, seed=3)
    )
    assert all(r.finish_reason == "stop" for r in out)
    for r in out:
        assert r.response_ids[-1] in eos
        assert not eos & set(r.response_ids[:-1])
        assert len(r.logprobs) == r.num_tokens


def test_length_finish_reason(tiny, prompts):
    model, tok = tiny
    out = HFSampler(model, tok, batch_size=6).generate(prompts, SamplingParams(n=2, max_new_tokens=4, seed=4))
    lengths = [r for r in out if r.finish_reason == "length"]
    assert lengths, "with 4 tokens over 261 near-uniform choices, most samples must hit the limit"
    assert all(r.num_tokens == 4 for r in lengths)


def test_stop_string_truncates_text_and_tokens(tiny, prompts):
    model, tok = tiny
    sampler = HFSampler(model, tok, batch_size=1)
    params = SamplingParams(n=1, max_new_tokens=24, temperature=1.0, seed=7)
    full = sampler.generate(prompts[:1], params)[0]
    text = tok.decode(full.response_ids, skip_special_tokens=True)
    # A printable two-character piece from the middle of the free-running text.
    k = next(
        i
        for i in range(4, len(text) - 2)
        if text[i : i + 2].isprintable() and "\ufffd" not in text[i : i + 2]
    )
    stop = text[k : k + 2]
    first = text.find(stop)

    cut = sampler.generate(prompts[:1], SamplingParams(**{**params.__dict__, "stop": (stop,)}))[0]
    assert cut.finish_reason == "stop"
    assert cut.text == text[: first + 2]
    m = cut.num_tokens
    assert cut.response_ids == full.response_ids[:m]  # same seed: same tokens up to the cut
    assert cut.logprobs == pytest.approx(full.logprobs[:m], abs=1e-6)
    assert stop in tok.decode(cut.response_ids[:m], skip_special_tokens=True)
    assert stop not in tok.decode(cut.response_ids[: m - 1], skip_special_tokens=True)


def test_batch_size_is_validated(tiny):
    model, tok = tiny
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        HFSampler(model, tok, batch_size=0)


def test_sampling_runs_in_eval_mode_and_restores_train_mode(tiny, prompts):
    model, tok = tiny
    seen = []
    hook = model.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    try:
        model.train()
        HFSampler(model, tok).generate(prompts[:1], SamplingParams(max_new_tokens=3))
        assert model.training
    finally:
        hook.remove()
        model.eval()
    assert seen and not any(seen)
