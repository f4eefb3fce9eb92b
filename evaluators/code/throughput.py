"""Sandbox throughput: ``python -m evaluators.code.throughput [--trivial 40] [--humaneval] [--workers 1 2]``.

Times ``run_tests`` on a trivial program in each available mode, and (``--humaneval``) grading of all 164
HumanEval+ canonical solutions (which must all pass, a check of the grader), with each worker count.
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial

from evaluators.code import humaneval
from evaluators.code.sandbox import SandboxConfig, detect_mode, run_many, run_tests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trivial", type=int, default=40, help="trivial programs per measurement (0 to skip)")
    ap.add_argument("--humaneval", action="store_true", help="also grade the 164 canonical solutions")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    modes = ["namespace", "fallback"] if detect_mode() == "namespace" else ["fallback"]
    for mode in modes if args.trivial else []:
        cfg = SandboxConfig(mode=mode)
        for w in args.workers:
            jobs = [
                partial(run_tests, "def f(x):\n    return x\n", "assert f(1) == 1", 10.0, 256, cfg)
            ] * args.trivial
            load, t = os.getloadavg()[0], time.monotonic()
            verdicts = run_many(jobs, workers=w, progress=False)
            dt = time.monotonic() - t
            assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed][:1]
            print(
                f"trivial run_tests  {mode:9s} workers={w}: {args.trivial / dt:6.2f} programs/s "
                f"({args.trivial} in {dt:.1f} s, load average {load:.1f})",
                flush=True,
            )
    if args.humaneval:
        problems = humaneval.load_problems()
        gt = humaneval.ground_truth(problems, workers=max(args.workers))
        for w in args.workers:
            jobs = [partial(humaneval.grade_program, p.reference_program, p, gt[p.task_id]) for p in problems]
            load, t = os.getloadavg()[0], time.monotonic()
            res = run_many(jobs, workers=w, progress=False)
            dt = time.monotonic() - t
            print(
                f"HumanEval+ canonical ({modes[0]}) workers={w}: {len(problems) / dt:5.2f} programs/s "
                f"({len(problems)} in {dt:.1f} s, load average {load:.1f}); base pass "
                f"{sum(r['correct_base'] for r in res)}/164, plus pass {sum(r['correct'] for r in res)}/164",
                flush=True,
            )


if __name__ == "__main__":
    main()
