"""Measure the grader: agreement on the test table, on reference solutions, and its throughput.

    python -m evaluators.math.grader_benchmark [--workers 2] [--out results/grader/grader_benchmark.json]

- ``table``: agreement with the hand-labelled table of ``tests/evaluators/math/grader_cases.py``.
- ``math500_solutions``: MATH-500's reference solutions (full text, answer in ``\\boxed{}``) graded against
  the reference answers; every one should be correct.
- ``math500_shifted``: solution ``i`` against the answer of problem ``i+1`` (pairs whose two reference
  answers are the same string are skipped); every one should be wrong.
- Throughput (answers/s) on the shifted pairs (wrong answers: the full parse-and-verify path, as for most
  samples of a weak model), in-process (main thread, SIGALRM limit, cold parse cache) and through a
  :class:`GradingPool` (cold caches; worker start-up reported separately). The solutions themselves
  mostly hit the exact-string shortcut, so their speed is reported but is not representative.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

from evaluators.common.atomic import atomic_write_json
from evaluators.math.benchmarks import load_benchmark
from evaluators.math.grader import _parse, extract_answer, is_correct
from evaluators.math.grading_pool import GradingPool
from resrl.paths import REPO_ROOT

CASES_FILE = REPO_ROOT / "tests" / "evaluators" / "math" / "grader_cases.py"
RAW_MATH500 = REPO_ROOT.parent / "shared" / "data" / "math500" / "test.jsonl"


def load_cases(path: Path = CASES_FILE) -> list[tuple[str, str, bool, str]]:
    spec = importlib.util.spec_from_file_location("grader_cases", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(mod.CASES)


def math500_solutions(path: Path = RAW_MATH500) -> list[tuple[str, str]]:
    """(reference solution, reference answer) pairs from the raw MATH-500 file (the shipped file has no solutions)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    answers = {p.id.removeprefix("math500-"): p.answer for p in load_benchmark("math500")}
    return [(r["solution"], answers[r["unique_id"].removesuffix(".json")]) for r in rows]


def _agreement(pairs, expected) -> dict:
    t = time.perf_counter()
    got = [is_correct(r, a) for r, a in pairs]
    secs = time.perf_counter() - t
    disagree = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    return {
        "n": len(pairs),
        "agree": len(pairs) - len(disagree),
        "agreement": 1 - len(disagree) / len(pairs),
        "disagreements": disagree[:20],
        "seconds": round(secs, 2),
        "answers_per_s": round(len(pairs) / secs, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    report: dict = {"load_average_at_start": os.getloadavg(), "cpus": os.cpu_count()}
    cases = load_cases()
    report["table"] = _agreement([(r, a) for r, a, _, _ in cases], [e for _, _, e, _ in cases])
    report["table"]["disagreeing_cases"] = [cases[i][:3] for i in report["table"]["disagreements"]]

    if RAW_MATH500.is_file():
        sols = math500_solutions()
        report["math500_solutions"] = _agreement(sols, [True] * len(sols))
        shifted = [
            (sols[i][0], sols[(i + 1) % len(sols)][1])
            for i in range(len(sols))
            if sols[i][1].replace(" ", "") != sols[(i + 1) % len(sols)][1].replace(" ", "")
        ]
        _parse.cache_clear()
        report["math500_shifted"] = _agreement(shifted, [False] * len(shifted))  # cold cache
        report["math500_shifted"]["flagged_correct"] = [
            (extract_answer(shifted[i][0]), shifted[i][1]) for i in report["math500_shifted"]["disagreements"]
        ]
        t = time.perf_counter()
        with GradingPool(workers=args.workers) as pool:
            pool.check(["1"] * args.workers, ["1"] * args.workers)  # start the workers
            start_s = time.perf_counter() - t
            t = time.perf_counter()
            graded = pool.grade([r for r, _ in shifted], [a for _, a in shifted])
            secs = time.perf_counter() - t
        report["pool_shifted"] = {
            "workers": args.workers,
            "startup_s": round(start_s, 2),
            "n": len(shifted),
            "correct": sum(ok for _, ok in graded),
            "seconds": round(secs, 2),
            "answers_per_s": round(len(shifted) / secs, 1),
        }
    report["load_average_at_end"] = os.getloadavg()
    if args.out:
        atomic_write_json(args.out, report)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
