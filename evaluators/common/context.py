"""Prompts longer than the model's context: not sent to the engine, answered with empty rollouts, counted.

A prompt of at least ``max_context`` tokens leaves no room for a single new token: transformers would sample past
the position embeddings (garbage, with a warning) and vLLM rejects the request. Cutting a problem statement
would change the problem, so such a prompt gets ``n`` empty responses with ``finish_reason="prompt_too_long"``
(graded wrong like any empty answer, so the metrics still count them) and the caller reports how many there
were.
"""

from __future__ import annotations

from typing import Any

from resrl.rollout.base import Rollout, SamplingParams

#: ``Rollout.finish_reason`` of the placeholder responses to over-long prompts.
PROMPT_TOO_LONG = "prompt_too_long"


def model_context(model: Any) -> int | None:
    """The context length of a transformers model or config (``max_position_embeddings``), ``None`` if unknown."""
    config = getattr(model, "config", model)
    value = getattr(config, "max_position_embeddings", None)
    return int(value) if isinstance(value, int) and value > 0 else None


def generate_within_context(
    sampler: Any, tokenizer: Any, prompts: list[str], params: SamplingParams, max_context: int | None
) -> tuple[list[Rollout], int]:
    """``sampler.generate`` on the prompts shorter than ``max_context`` tokens; ``n`` empty rollouts for each other
    prompt. Returns the rollouts (prompt-major, as the sampler's) and the number of over-long prompts."""
    if max_context is None:
        return sampler.generate(prompts, params), 0
    too_long = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) >= max_context for p in prompts]
    if not any(too_long):
        return sampler.generate(prompts, params), 0
    fits = [i for i, bad in enumerate(too_long) if not bad]
    out: list[Rollout] = []
    if fits:
        for r in sampler.generate([prompts[i] for i in fits], params):
            r.prompt_index = fits[r.prompt_index]
            out.append(r)
    for i in (i for i, bad in enumerate(too_long) if bad):
        out += [Rollout(i, s, [], [], "", finish_reason=PROMPT_TOO_LONG) for s in range(params.n)]
    out.sort(key=lambda r: (r.prompt_index, r.sample_index))
    return out, sum(too_long)
