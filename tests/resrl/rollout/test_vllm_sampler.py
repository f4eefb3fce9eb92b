"""VLLMSampler without vllm: install hint, kwargs translation, output conversion (against a fake vllm)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from types import SimpleNamespace

import pytest

from resrl.paths import REPO_ROOT
from resrl.rollout import SamplingParams, make_sampler, rollouts_from_vllm, to_vllm_kwargs
from resrl.rollout.vllm_sampler import VLLMSampler


def test_to_vllm_kwargs():
    params = SamplingParams(n=4, temperature=0.6, top_p=0.9, max_new_tokens=100, stop=("</answer>",), seed=7)
    assert to_vllm_kwargs(params, prompt_index=2) == {
        "n": 4,
        "temperature": 0.6,
        "top_p": 0.9,
        "top_k": -1,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "max_tokens": 100,
        "stop": ["</answer>"],
        "include_stop_str_in_output": True,
        "skip_special_tokens": True,
        "seed": 9,
        "logprobs": 0,
    }


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_without_vllm_construction_raises_install_hint():
    with pytest.raises(ImportError, match=r"pip install 'resrl\[gpu\]'"):
        VLLMSampler("Qwen/Qwen3-1.7B")
    with pytest.raises(ImportError, match="engine=hf"):
        make_sampler("vllm", "Qwen/Qwen3-1.7B")


def test_importing_rollout_does_not_import_vllm(tmp_path):
    # A vllm that explodes on import: importing our package must not touch it.
    (tmp_path / "vllm").mkdir()
    (tmp_path / "vllm" / "__init__.py").write_text("raise RuntimeError('vllm was imported')\n")
    code = "import resrl.rollout, resrl.rollout.vllm_sampler, resrl.rollout.registry, sys; print('ok')"
    env_path = f"{tmp_path}"
    res = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {env_path!r}); {code}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def _fake_outputs():
    def lp(token, value):
        return {token: SimpleNamespace(logprob=value)}

    return [
        SimpleNamespace(
            prompt_token_ids=[1, 2],
            outputs=[
                SimpleNamespace(
                    token_ids=[5, 6], text="hi", logprobs=[lp(5, -0.1), lp(6, -0.2)], finish_reason="stop"
                ),
                SimpleNamespace(token_ids=[7], text="yo", logprobs=[lp(7, -0.3)], finish_reason="length"),
            ],
        ),
        SimpleNamespace(
            prompt_token_ids=[3],
            outputs=[SimpleNamespace(token_ids=[8], text="a", logprobs=[lp(8, -0.4)], finish_reason="stop")],
        ),
    ]


def test_rollouts_from_vllm():
    out = rollouts_from_vllm(_fake_outputs())
    assert [(r.prompt_index, r.sample_index) for r in out] == [(0, 0), (0, 1), (1, 0)]
    assert [r.prompt_ids for r in out] == [[1, 2], [1, 2], [3]]
    assert [r.response_ids for r in out] == [[5, 6], [7], [8]]
    assert [r.logprobs for r in out] == [[-0.1, -0.2], [-0.3], [-0.4]]
    assert [r.finish_reason for r in out] == ["stop", "length", "stop"]
    assert [r.text for r in out] == ["hi", "yo", "a"]


def test_rollouts_from_vllm_rejects_abort_and_missing_logprobs():
    outs = _fake_outputs()
    outs[1].outputs[0].finish_reason = "abort"
    with pytest.raises(RuntimeError, match="prompt 1 sample 0: vLLM finish_reason='abort'"):
        rollouts_from_vllm(outs)
    outs = _fake_outputs()
    outs[0].outputs[0].logprobs = None
    with pytest.raises(ValueError, match="no logprobs"):
        rollouts_from_vllm(outs)


def test_vllm_sampler_wiring_with_a_fake_vllm(monkeypatch):
    calls = {}

    class FakeTokenizer:
        def encode(self, text, add_special_tokens=True):
            calls.setdefault("add_special_tokens", []).append(add_special_tokens)
            return [ord(c) for c in text] if not add_special_tokens else [0] + [ord(c) for c in text]

    class FakeLLM:
        def __init__(self, **kw):
            calls["llm"] = kw

        def get_tokenizer(self):
            return FakeTokenizer()

        def generate(self, prompts, sampling_params, use_tqdm=True):
            calls["prompts"], calls["params"] = prompts, sampling_params
            return _fake_outputs()

    fake = types.ModuleType("vllm")
    fake.LLM = FakeLLM
    fake.SamplingParams = lambda **kw: kw
    monkeypatch.setitem(sys.modules, "vllm", fake)

    sampler = make_sampler("vllm", "some/model", dtype="bfloat16")
    out = sampler.generate(["p0", "p1"], SamplingParams(n=2, seed=10))
    assert calls["llm"] == {
        "model": "some/model",
        "tokenizer": None,
        "dtype": "bfloat16",
        "logprobs_mode": "processed_logprobs",
        "enable_prefix_caching": True,
    }
    # text prompts reach vLLM as token ids, tokenised without special tokens (as HFSampler does)
    assert calls["prompts"] == [{"prompt_token_ids": [112, 48]}, {"prompt_token_ids": [112, 49]}]
    assert calls["add_special_tokens"] == [False, False]
    assert [p["seed"] for p in calls["params"]] == [10, 11]
    assert len(out) == 3


def test_vllm_sampler_refuses_a_tokenizer_object():
    """vllm.LLM(tokenizer=...) takes a name or path; an object must fail here, naming the fix."""
    with pytest.raises(TypeError, match="tokenizer must be a Hub id or folder path .*prompt_tokenizer="):
        VLLMSampler("some/model", tokenizer=object())


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown rollout engine 'sglang'; valid engines: hf, vllm"):
        make_sampler("sglang", None)
