"""``load_policy``: a model name or ``ModelSpec`` -> (model, tokenizer) ready for batched sampling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from resrl.models.gguf import load_gguf_package
from resrl.models.spec import ModelSpec, get_model_spec
from resrl.models.tiny import build_byte_tokenizer, build_tiny_qwen3

_TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_spec(spec_or_name: ModelSpec | str | Mapping[str, Any]) -> ModelSpec:
    """A ``ModelSpec`` from a spec, a config name (``experiments/model/<name>.yaml``) or a mapping."""
    if isinstance(spec_or_name, ModelSpec):
        return spec_or_name
    if isinstance(spec_or_name, str):
        return get_model_spec(spec_or_name)
    if isinstance(spec_or_name, Mapping):
        return ModelSpec.from_dict(spec_or_name)
    raise TypeError(f"expected a ModelSpec, a model name or a mapping, got {type(spec_or_name).__name__}")


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Left padding (for batched generation); pad token ``<|im_end|>`` (or eos) when the tokenizer has none."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        if "<|im_end|>" in tokenizer.get_vocab():
            tokenizer.pad_token = "<|im_end|>"
        elif tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        else:
            raise ValueError("tokenizer has neither a pad token, <|im_end|>, nor an eos token to pad with")
    return tokenizer


def _load_hub(spec: ModelSpec, dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    tokenizer = AutoTokenizer.from_pretrained(spec.hub_id, revision=spec.revision)
    model = AutoModelForCausalLM.from_pretrained(spec.hub_id, revision=spec.revision, dtype=dtype)
    return model.eval(), tokenizer


def load_policy(
    spec_or_name: ModelSpec | str | Mapping[str, Any], device: str | torch.device = "cpu"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the policy model (eval mode, on ``device``) and its tokenizer (left padding, pad token set).

    Unknown model names raise a ValueError listing the valid names.
    """
    spec = resolve_spec(spec_or_name)
    dtype = _TORCH_DTYPES[spec.dtype]
    if spec.source == "random":
        tokenizer = build_byte_tokenizer()
        model = build_tiny_qwen3(tokenizer, seed=spec.seed, **spec.random_init).to(dtype)
    elif spec.source == "gguf_package":
        assert spec.gguf_package and spec.gguf_file  # checked by ModelSpec
        model, tokenizer = load_gguf_package(
            spec.name, spec.gguf_package, spec.gguf_file, dtype, spec.pip_hint
        )
    else:
        model, tokenizer = _load_hub(spec, dtype)
    tokenizer = prepare_tokenizer(tokenizer)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model.to(device), tokenizer
