"""Benchmark 3: grader throughput. Math answers/s and sandboxed code programs/s vs one-at-a-time loops.

Math: MATH-500 reference solutions (full text, answer in ``\\boxed{}``), half graded against their own
answer and half against the next problem's (wrong answers walk the whole parse-and-verify path, as most
samples of a weak model do). Compared, on the same pairs, each from a cold parse cache:
- ``naive``: ``math_verify.verify(parse(gold), parse(response))`` one pair at a time (the library as its
  README shows it);
- ``is_correct`` loop: our grader in this process (extraction, normalisation shortcuts, main-thread limit);
- ``GradingPool(workers=w)``: our grader in ``w`` worker processes (worker start-up timed separately).

Code: HumanEval+ canonical solutions graded with their base and plus tests (``evaluators.code.humaneval.
grade_program``, every program run in the sandbox), one at a time in a loop vs ``run_many(workers=w)``;
and, for scale, trivial ``run_tests`` programs, plus an unsandboxed ``python -c`` per program (no isolation:
what the sandbox costs, not an alternative).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

from benchmarks.common import BenchResult, Row, goal_at_least, timed

NAME = "graders"
TITLE = "Graders: math answers/s and sandbox programs/s"
RAW_MATH500 = Path(__file__).resolve().parents[2] / "shared" / "data" / "math500" / "test.jsonl"


def math_pairs(limit: int) -> list[tuple[str, str, bool]]:
    """(response, gold answer, expected verdict): even i own answer (True), odd i the next problem's (False)."""
    from evaluators.math.benchmarks import load_benchmark

    rows = [json.loads(x) for x in RAW_MATH500.read_text(encoding="utf-8").splitlines() if x.strip()]
    answers = {p.id.removeprefix("math500-"): p.answer for p in load_benchmark("math500")}
    sols = [(r["solution"], answers[r["unique_id"].removesuffix(".json")]) for r in rows]
    pairs = []
    for i in range(min(limit, len(sols))):
        if i % 2 == 0:
            pairs.append((sols[i][0], sols[i][1], True))
        else:
            other = sols[(i + 1) % len(sols)][1]
            if other.replace(" ", "") != sols[i][1].replace(" ", ""):
                pairs.append((sols[i][0], other, False))
    return pairs


def _naive_math(pairs) -> list[bool]:
    from math_verify import parse, verify

    return [bool(verify(parse(f"\\boxed{{{gold}}}"), parse(resp))) for resp, gold, _ in pairs]


def _math_rows(res: BenchResult, quick: bool) -> None:
    from evaluators.math.grader import _parse, is_correct
    from evaluators.math.grading_pool import GradingPool

    if not RAW_MATH500.is_file():
        res.notes.append(f"math grader not measured: {RAW_MATH500} is missing")
        return
    pairs = math_pairs(60 if quick else 500)
    n = len(pairs)
    print(f"[graders] math: {n} pairs, naive math-verify loop ...", flush=True)
    t_naive, v_naive = timed(lambda: _naive_math(pairs))
    _parse.cache_clear()
    print("[graders] math: is_correct loop ...", flush=True)
    t_single, v_single = timed(lambda: [is_correct(r, g) for r, g, _ in pairs])
    raw = {
        "pairs": n,
        "naive_s": t_naive,
        "is_correct_loop_s": t_single,
        "agreement_with_expected": {
            "naive": sum(a == e for a, (_, _, e) in zip(v_naive, pairs, strict=True)) / n,
            "ours": sum(a == e for a, (_, _, e) in zip(v_single, pairs, strict=True)) / n,
        },
    }
    res.rows.append(
        Row(
            f"math: {n} MATH-500 pairs, 1 process",
            "math-verify loop",
            "is_correct loop",
            "answers/s",
            n / t_naive,
            n / t_single,
            t_naive / t_single,
            "> 1x",
            goal_at_least(t_naive / t_single, 1.0),
        )
    )
    for w in (1, 2) if quick else (1, 2, 4):
        print(f"[graders] math: GradingPool(workers={w}) ...", flush=True)
        with GradingPool(workers=w) as pool:
            t_start, _ = timed(lambda pool=pool, w=w: pool.check(["1"] * w, ["1"] * w))
            t_pool, graded = timed(
                lambda pool=pool: pool.grade([r for r, _, _ in pairs], [g for _, g, _ in pairs])
            )
        raw[f"pool_{w}"] = {
            "startup_s": t_start,
            "grade_s": t_pool,
            "same_verdicts_as_loop": sum(ok == s for (_, ok), s in zip(graded, v_single, strict=True)) / n,
        }
        res.rows.append(
            Row(
                f"math: {n} pairs, GradingPool workers={w} (start-up {t_start:.1f} s excluded)",
                "math-verify loop",
                f"pool x{w}",
                "answers/s",
                n / t_naive,
                n / t_pool,
                t_naive / t_pool,
                "> 1x",
                goal_at_least(t_naive / t_pool, 1.0),
            )
        )
    res.raw["math"] = raw


def _plain_python(program: str, tests: str) -> bool:
    """Unsandboxed reference point: one ``python -c`` per program (NOT safe for model output)."""
    proc = subprocess.run([sys.executable, "-c", program + "\n" + tests], capture_output=True, timeout=30)
    return proc.returncode == 0


def _code_rows(res: BenchResult, quick: bool) -> None:
    try:
        from evaluators.code import humaneval
        from evaluators.code.sandbox import SandboxConfig, detect_mode, run_many, run_tests
    except ImportError as err:
        res.notes.append(f"code sandbox not measured: {err}")
        res.status = "partial"
        return
    mode = detect_mode()
    raw: dict = {"mode": mode}
    # trivial programs: the sandbox's fixed cost per program
    n_triv = 8 if quick else 24
    prog, tests = "def f(x):\n    return x\n", "assert f(1) == 1"
    jobs = [partial(run_tests, prog, tests, 10.0, 256, SandboxConfig())] * n_triv
    print(f"[graders] code: {n_triv} trivial programs ({mode} sandbox) ...", flush=True)
    t_loop, v = timed(lambda: [j() for j in jobs])
    assert all(x.passed for x in v), v[:1]
    t_plain, ok = timed(lambda: [_plain_python(prog, tests) for _ in range(n_triv)])
    raw["trivial"] = {
        "n": n_triv,
        "loop_s": t_loop,
        "plain_python_loop_s": t_plain,
        "plain_all_passed": all(ok),
    }
    res.rows.append(
        Row(
            f"code: {n_triv} trivial programs, plain `python -c` vs sandbox (cost of isolation)",
            "unsandboxed python -c loop",
            "sandbox loop",
            "programs/s",
            n_triv / t_plain,
            n_triv / t_loop,
            t_plain / t_loop,
            "",
            None,
        )
    )
    for w in (2,) if quick else (2, 4):
        t_pool, v = timed(lambda w=w: run_many(jobs, workers=w, progress=False))
        raw["trivial"][f"run_many_{w}_s"] = t_pool
        res.rows.append(
            Row(
                f"code: {n_triv} trivial programs, run_many workers={w}",
                "sandbox loop",
                f"run_many x{w}",
                "programs/s",
                n_triv / t_loop,
                n_triv / t_pool,
                t_loop / t_pool,
                "> 1x",
                goal_at_least(t_loop / t_pool, 1.0),
            )
        )
    # realistic: HumanEval+ canonical solutions with base + plus tests
    try:
        problems = humaneval.load_problems(limit=12 if quick else 48)
        gt = humaneval.ground_truth(problems, workers=2)
    except (FileNotFoundError, RuntimeError) as err:
        res.notes.append(f"HumanEval+ grading not measured: {err}")
        res.raw["code"] = raw
        return
    jobs = [partial(humaneval.grade_program, p.reference_program, p, gt[p.task_id]) for p in problems]
    n = len(jobs)
    print(f"[graders] code: {n} HumanEval+ canonical solutions, loop ...", flush=True)
    t_loop, v = timed(lambda: [j() for j in jobs])
    raw["humaneval"] = {"n": n, "loop_s": t_loop, "loop_correct": sum(r["correct"] for r in v)}
    for w in (2,) if quick else (2, 4):
        print(f"[graders] code: HumanEval+, run_many workers={w} ...", flush=True)
        t_pool, vp = timed(lambda w=w: run_many(jobs, workers=w, progress=False))
        raw["humaneval"][f"run_many_{w}"] = {"s": t_pool, "correct": sum(r["correct"] for r in vp)}
        res.rows.append(
            Row(
                f"code: {n} HumanEval+ solutions (base+plus tests), run_many workers={w}",
                "loop",
                f"run_many x{w}",
                "programs/s",
                n / t_loop,
                n / t_pool,
                t_loop / t_pool,
                "> 1x",
                goal_at_least(t_loop / t_pool, 1.0),
            )
        )
    res.raw["code"] = raw


def run(quick: bool = False) -> BenchResult:
    res = BenchResult(NAME, TITLE)
    _math_rows(res, quick)
    _code_rows(res, quick)
    res.raw["cpus"] = os.cpu_count()
    res.notes.append(
        "The issue names no numeric goal for graders; '> 1x' only marks that the parallel or "
        "optimised path beats the one-at-a-time loop on this 2-core machine."
    )
    return res
