"""``VLLMSampler``: the GPU rollout engine (``vllm.LLM``). vllm is imported only when the class is built.

Written against vLLM's offline API (``vllm.LLM(...).generate(prompts, [SamplingParams])``, V1 engine); it
cannot run on this CPU-only machine, so only the pure translation functions are tested here.

Matching ``HFSampler``'s conventions:
- log-probs are of the *processed* distribution (after temperature/top-p): the engine is built with
  ``logprobs_mode="processed_logprobs"`` (vLLM's default, ``raw_logprobs``, would be pre-temperature);
- stop strings are kept in the text (``include_stop_str_in_output=True``), special tokens skipped;
- prompt ``i`` is seeded with ``params.seed + i``, so identical prompts in one call still differ;
- text prompts are tokenised here with ``add_special_tokens=False`` (as ``HFSampler`` does) and sent as token
  ids (``TokensPrompt``), so vLLM's own prompt tokenisation (which may add a BOS) never applies;
- ``generate_from_ids`` takes token-id prompts for the multi-turn runner.
The engine is for evaluation: it loads the weights once. There is no weight synchronisation from a trainer,
so the local trainer refuses ``rollout_engine=vllm``; GPU training runs through the veRL backend.
Keyword names and types are checked against vLLM 0.24.0's real signatures in ``tests/gpu_sim``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from resrl.rollout.base import Rollout, SamplingParams

INSTALL_HINT = (
    "VLLMSampler needs vllm, which requires a CUDA GPU: `pip install 'resrl[gpu]'` on a GPU machine (or the "
    "cluster environment, docs/cluster.md); on CPU use engine=hf"
)


def to_vllm_kwargs(params: SamplingParams, prompt_index: int = 0) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for prompt ``prompt_index`` (pure; no vllm import).

    ``logprobs=0`` asks for the sampled token's log-prob only; top-k/min-p/penalties are set to their
    neutral values explicitly so model-side generation defaults cannot leak in.
    """
    return {
        "n": params.n,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": -1,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "max_tokens": params.max_new_tokens,
        "stop": list(params.stop),
        "include_stop_str_in_output": True,
        "skip_special_tokens": True,
        "seed": params.seed + prompt_index,
        "logprobs": 0,
    }


def tokens_prompts(prompts: Sequence[Sequence[int]]) -> list[dict[str, list[int]]]:
    """Token-id prompts as vLLM ``TokensPrompt`` dicts (``{"prompt_token_ids": ids}``; a TypedDict, so plain
    dicts are accepted and no vllm import is needed). Empty prompts raise."""
    out = []
    for i, ids in enumerate(prompts):
        if not ids:
            raise ValueError(f"prompt {i} has no tokens")
        out.append({"prompt_token_ids": [int(t) for t in ids]})
    return out


def _sampled_logprobs(token_ids: Sequence[int], logprobs: Sequence[dict] | None) -> list[float]:
    """The sampled tokens' log-probs from vLLM's per-position ``{token_id: Logprob}`` dicts."""
    if logprobs is None:
        raise ValueError("vLLM returned no logprobs; SamplingParams.logprobs must be set (0)")
    if len(logprobs) != len(token_ids):
        raise ValueError(f"vLLM returned {len(logprobs)} logprob entries for {len(token_ids)} tokens")
    return [float(pos[tok].logprob) for tok, pos in zip(token_ids, logprobs, strict=True)]


def rollouts_from_vllm(request_outputs: Sequence[Any]) -> list[Rollout]:
    """``vllm.RequestOutput`` list (one per prompt, in order) -> prompt-major ``Rollout`` list.

    Reads only ``prompt_token_ids`` and ``outputs[j].{token_ids, text, logprobs, finish_reason}``.
    vLLM's ``"abort"`` finish reason raises; ``"stop"`` and ``"length"`` map one-to-one.
    """
    rollouts = []
    for p, req in enumerate(request_outputs):
        for s, out in enumerate(req.outputs):
            if out.finish_reason not in ("stop", "length"):
                raise RuntimeError(f"prompt {p} sample {s}: vLLM finish_reason={out.finish_reason!r}")
            ids = list(out.token_ids)
            rollouts.append(
                Rollout(
                    prompt_index=p,
                    sample_index=s,
                    prompt_ids=list(req.prompt_token_ids),
                    response_ids=ids,
                    text=out.text,
                    logprobs=_sampled_logprobs(ids, out.logprobs),
                    finish_reason=out.finish_reason,
                )
            )
    return rollouts


class VLLMSampler:
    """``vllm.LLM`` behind the ``Sampler`` interface.

    model: a Hub id or local checkpoint folder (str); tokenizer: the tokenizer's id or folder (str, default: the
    model's), as ``vllm.LLM`` takes them; prompt_tokenizer: a loaded Hugging Face tokenizer used to turn text
    prompts into ids (default: the engine's own, ``LLM.get_tokenizer()``). Other keywords go to ``vllm.LLM``.
    """

    def __init__(
        self, model: str, tokenizer: str | None = None, *, prompt_tokenizer: Any = None, **llm_kwargs: Any
    ) -> None:
        for name, value in (("model", model), ("tokenizer", tokenizer)):
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise TypeError(
                    f"VLLMSampler {name} must be a Hub id or folder path (str), got {type(value).__name__}; "
                    "pass a loaded tokenizer as prompt_tokenizer="
                )
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(INSTALL_HINT) from exc
        self._vllm = vllm
        llm_kwargs.setdefault("logprobs_mode", "processed_logprobs")
        # multi-turn episodes resend their whole history each turn: vLLM reuses the shared prefix's KV blocks
        # (vllm.config.CacheConfig.enable_prefix_caching, on by default in 0.24; set so it stays on)
        llm_kwargs.setdefault("enable_prefix_caching", True)
        tok = None if tokenizer is None else str(tokenizer)
        self.llm = vllm.LLM(model=str(model), tokenizer=tok, **llm_kwargs)
        self.prompt_tokenizer = prompt_tokenizer if prompt_tokenizer is not None else self.llm.get_tokenizer()

    def encode(self, prompt: str) -> list[int]:
        """Token ids of a text prompt without added special tokens (the chat template already holds them)."""
        return list(self.prompt_tokenizer.encode(prompt, add_special_tokens=False))

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Rollout]:
        """``len(prompts) * params.n`` rollouts, prompt-major (prompts tokenised as ``HFSampler`` does)."""
        return self.generate_from_ids([self.encode(p) for p in prompts], params)

    def generate_from_ids(self, prompts: list[list[int]], params: SamplingParams) -> list[Rollout]:
        """``generate`` for prompts given as token ids (``vllm.inputs.TokensPrompt``), used as given."""
        sampling = [self._vllm.SamplingParams(**to_vllm_kwargs(params, i)) for i in range(len(prompts))]
        outputs = self.llm.generate(tokens_prompts(prompts), sampling, use_tqdm=True)
        return rollouts_from_vllm(outputs)
