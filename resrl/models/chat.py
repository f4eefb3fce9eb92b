"""Render chat messages to a prompt string with the tokenizer's chat template."""

from __future__ import annotations

from typing import Any

from transformers import PreTrainedTokenizerBase


def supports_thinking_switch(tokenizer: PreTrainedTokenizerBase) -> bool:
    """True when the chat template reads an ``enable_thinking`` variable (Qwen3 and the tiny test model)."""
    template = tokenizer.chat_template
    if isinstance(template, dict):  # named templates: look at the default one
        template = template.get("default", "")
    return isinstance(template, str) and "enable_thinking" in template


def format_chat(
    tokenizer: PreTrainedTokenizerBase,
    messages: list[dict[str, str]],
    enable_thinking: bool | None = None,
    **template_kwargs: Any,
) -> str:
    """The prompt text for ``messages`` followed by the assistant generation prompt.

    ``enable_thinking`` (argument, or a key of ``template_kwargs`` such as ``ModelSpec.chat_template_kwargs``)
    is passed to the template only when the template supports it (Qwen3: False = math no-think mode,
    True = code think mode); for other templates (SmolLM2) it is dropped. ``None`` keeps the template's
    default.
    """
    if enable_thinking is not None:
        template_kwargs["enable_thinking"] = enable_thinking
    if not supports_thinking_switch(tokenizer):
        template_kwargs.pop("enable_thinking", None)
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **template_kwargs
    )
    if not isinstance(text, str):
        raise TypeError(f"apply_chat_template returned {type(text).__name__}, expected str")
    return text
