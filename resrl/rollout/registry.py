"""``make_sampler(engine, model, tokenizer, **kw)``: rollout engines by name."""

from __future__ import annotations

from typing import Any

from resrl.rollout.base import Sampler

ENGINES = ("hf", "vllm")


def make_sampler(engine: str, model: Any, tokenizer: Any = None, **kw: Any) -> Sampler:
    """``"hf"``: ``HFSampler(model, tokenizer, **kw)`` (a loaded model). ``"vllm"``: ``VLLMSampler(model,
    tokenizer, **kw)`` (``model`` a Hub id or checkpoint folder; vllm imported only here)."""
    if engine == "hf":
        from resrl.rollout.hf_sampler import HFSampler

        if tokenizer is None:
            raise ValueError("engine 'hf' needs the tokenizer")
        return HFSampler(model, tokenizer, **kw)
    if engine == "vllm":
        from resrl.rollout.vllm_sampler import VLLMSampler

        return VLLMSampler(model, tokenizer, **kw)
    raise ValueError(f"unknown rollout engine {engine!r}; valid engines: {', '.join(ENGINES)}")
