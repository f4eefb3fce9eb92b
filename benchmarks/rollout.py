"""Benchmark 5: rollout tokens/s of the transformers engine on CPU, batched vs one prompt at a time.

``resrl.rollout.make_sampler("hf", model, tokenizer, batch_size=b)`` with SmolLM2-135M, temperature 0.6,
8 chat prompts, one sample each, up to 64 new tokens (quick: 4 prompts, 24 tokens). Tokens/s counts the
response tokens actually generated (EOS may end a response early) over the wall time of ``generate``.
The vLLM engine needs a GPU: when CUDA or vllm is missing it is reported as not measured, never estimated.
"""

from __future__ import annotations

import importlib.util

from benchmarks.common import BenchResult, Row, goal_at_least, timed

NAME = "rollout"
TITLE = "Rollout tokens/s: transformers engine batched vs one prompt at a time (CPU)"
MODEL = "smollm2-135m"
QUESTIONS = [
    "Explain step by step how to compute 17 * 24.",
    "Write a short story about a lighthouse keeper.",
    "List five facts about the planet Mars and explain each.",
    "Describe how a bicycle works, part by part.",
    "What is the sum of the first 20 odd numbers? Show your reasoning.",
    "Give a recipe for pancakes with detailed steps.",
    "Explain why the sky is blue to a ten-year-old.",
    "Summarise the rules of chess in a few paragraphs.",
]


def _tokens_per_s(sampler, prompts, params) -> tuple[float, int, float]:
    dt, rollouts = timed(lambda: sampler.generate(prompts, params))
    n_tok = sum(r.num_tokens for r in rollouts)
    return n_tok / dt, n_tok, dt


def run(quick: bool = False) -> BenchResult:
    import torch

    from resrl.models import format_chat, load_policy
    from resrl.rollout import make_sampler
    from resrl.rollout.base import SamplingParams

    res = BenchResult(NAME, TITLE)
    n_prompts, max_new = (4, 24) if quick else (8, 64)
    model, tok = load_policy(MODEL)
    prompts = [format_chat(tok, [{"role": "user", "content": q}]) for q in QUESTIONS[:n_prompts]]
    params = SamplingParams(n=1, temperature=0.6, max_new_tokens=max_new, seed=0)
    make_sampler("hf", model, tok, batch_size=n_prompts).generate(
        prompts[:1], SamplingParams(max_new_tokens=4)
    )  # warm-up
    raw = {"prompts": n_prompts, "max_new_tokens": max_new, "torch_threads": torch.get_num_threads()}
    results = {}
    for b in (1, n_prompts):
        print(f"[rollout] hf engine, batch_size={b} ...", flush=True)
        tps, n_tok, dt = _tokens_per_s(make_sampler("hf", model, tok, batch_size=b), prompts, params)
        results[b] = tps
        raw[f"batch_{b}"] = {"tokens": n_tok, "seconds": dt, "tokens_per_s": tps}
    r = results[n_prompts] / results[1]
    res.rows.append(
        Row(
            f"hf engine, {n_prompts} prompts x {max_new} new tokens, batch {n_prompts} vs 1",
            "batch_size=1",
            f"batch_size={n_prompts}",
            "tokens/s",
            results[1],
            results[n_prompts],
            r,
            "> 1x",
            goal_at_least(r, 1.0),
        )
    )
    has_vllm = importlib.util.find_spec("vllm") is not None
    if torch.cuda.is_available() and has_vllm:
        res.notes.append(
            "vLLM and a GPU are present but this benchmark does not yet time vLLM: not measured."
        )
    else:
        why = "no CUDA device" if not torch.cuda.is_available() else "vllm is not installed"
        res.notes.append(f"vLLM engine: not measured ({why} on this machine).")
        raw["vllm"] = f"not measured: {why}"
    res.raw = raw
    return res
