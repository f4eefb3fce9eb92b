"""Measure a model's pass rate on ``arith`` per level, to choose the level with mixed rewards.

    python -m resrl.tasks.calibrate --model smollm2-135m --levels 1 2 3 --problems 16 --samples 4

Prints one JSON line per level (pass rate under the task reward and under the local boxed-integer check,
share of responses with a ``\\boxed{}``, share cut by the length limit, tokens/s) and, with ``--out``, writes
them all to a JSON file (atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from resrl.models import format_chat, load_policy
from resrl.rollout import HFSampler, SamplingParams
from resrl.tasks.arith import score
from resrl.tasks.registry import make_task
from resrl.tasks.rewards import last_boxed, reward_name


def measure_level(sampler: HFSampler, tokenizer, level: int, args: argparse.Namespace) -> dict:
    task = make_task("arith", level=level, seed=args.seed, few_shot=args.few_shot)
    problems = list(task.problems(args.split, limit=args.problems))
    prompts = [
        format_chat(tokenizer, p.prompt_messages, enable_thinking=task.enable_thinking) for p in problems
    ]
    params = SamplingParams(
        n=args.samples, temperature=args.temperature, max_new_tokens=args.max_new_tokens, seed=args.seed
    )
    start = time.perf_counter()
    rollouts = sampler.generate(prompts, params)
    seconds = time.perf_counter() - start
    rewards = [
        float(task.is_correct(r.text, problems[r.prompt_index].answer)) for r in rollouts
    ]  # 1 right, 0 wrong
    local = [score(r.text, problems[r.prompt_index].answer) for r in rollouts]
    per_problem = [
        sum(rewards[i * args.samples : (i + 1) * args.samples]) / args.samples for i in range(len(problems))
    ]
    tokens = sum(r.num_tokens for r in rollouts)
    return {
        "level": level,
        "samples": len(rollouts),
        "pass_rate": sum(rewards) / len(rewards),
        "reward": reward_name(task.reward_fn),
        "pass_rate_boxed_int": sum(local) / len(local),
        "boxed_share": sum(last_boxed(r.text) is not None for r in rollouts) / len(rollouts),
        "length_cut_share": sum(r.finish_reason == "length" for r in rollouts) / len(rollouts),
        "problems_mixed": sum(0 < p < 1 for p in per_problem),
        "problems": len(problems),
        "tokens_per_s": tokens / seconds,
        "example": {
            "question": problems[0].meta["question"],
            "answer": problems[0].answer,
            "response": rollouts[0].text,
        },
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--split", default="test")
    ap.add_argument("--few-shot", type=int, default=1, help="demonstration turns in the prompt (0 or 1)")
    ap.add_argument("--problems", type=int, default=16)
    ap.add_argument("--samples", type=int, default=4, help="samples per problem")
    ap.add_argument("--temperature", type=float, default=0.6)
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    model, tokenizer = load_policy(args.model)
    sampler = HFSampler(model, tokenizer, batch_size=args.batch_size, show_progress=True)
    results = []
    for level in args.levels:
        results.append(measure_level(sampler, tokenizer, level, args))
        print(json.dumps(results[-1]), flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({"args": {k: str(v) for k, v in vars(args).items()}, "levels": results}, f, indent=1)
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
