"""Rollout engines behind one ``Sampler`` interface: ``HFSampler`` (CPU, transformers) and ``VLLMSampler``
(GPU; vllm is imported lazily, so importing this package never imports vllm). ``HFSampler`` is resolved
on first access, so ``import resrl.rollout.base`` does not import transformers either."""

from typing import Any

from resrl.rollout.base import Rollout, Sampler, SamplingParams, TokenSampler
from resrl.rollout.batch import collate, position_ids_from_mask
from resrl.rollout.registry import ENGINES, make_sampler
from resrl.rollout.vllm_sampler import VLLMSampler, rollouts_from_vllm, to_vllm_kwargs, tokens_prompts

__all__ = [
    "ENGINES",
    "HFSampler",
    "Rollout",
    "Sampler",
    "SamplingParams",
    "TokenSampler",
    "VLLMSampler",
    "collate",
    "make_sampler",
    "position_ids_from_mask",
    "rollouts_from_vllm",
    "to_vllm_kwargs",
    "tokens_prompts",
]


def __getattr__(name: str) -> Any:
    if name == "HFSampler":
        from resrl.rollout.hf_sampler import HFSampler

        return HFSampler
    raise AttributeError(f"module 'resrl.rollout' has no attribute {name!r}")
