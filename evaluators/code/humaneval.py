"""HumanEval+ (evalplus v0.1.10): data, expected outputs, grading with base and plus tests.

Grading follows evalplus's documented procedure (``evalplus/evaluate.py``, read for the facts, not copied):

- Expected outputs are not in the data file: they are the outputs of ``prompt + canonical_solution`` on every
  input, computed here in the sandbox (``run_calls``) and cached with the per-input run time in
  ``results/cache/code/humanevalplus-<md5>-py<version>.json`` (one entry per task, filled in as needed).
- A candidate passes the *base* tests when it returns the expected output for every ``base_input``, and passes
  HumanEval+ (*plus*) when it passes the base tests and every ``plus_input``.
- Time limit of input i: ``max(min_time_limit, factor * t_i)`` with ``t_i`` the canonical solution's time
  (evalplus defaults: 1 s and 4); the whole run is bounded by ``min(60, sum of limits) + 1`` s.
- Output comparison: exact ``==``; if the expected value is a float or a non-empty list/tuple of floats and the
  task's ``atol`` is 0, atol becomes 1e-6; when not exactly equal and atol > 0 the output must have the same type
  (and length) and be ``allclose`` (rtol 1e-7, atol). HumanEval/32 (``find_zero``) is checked by
  ``|poly(xs, x)| <= atol`` instead, since any root is right.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from evaluators.code import _sandbox_child as codec
from evaluators.code.sandbox import SandboxConfig, Verdict, run_calls, run_many
from resrl.paths import cache_dir, data_dir

log = logging.getLogger(__name__)

DATA_FILE = Path("code") / "humanevalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"
MIN_TIME_LIMIT = 1.0  # evalplus DEFAULT_MIN_TIME_LIMIT
GT_TIME_LIMIT_FACTOR = 4.0  # evalplus DEFAULT_GT_TIME_LIMIT_FACTOR
MAX_TASK_TIMEOUT = 60.0  # evalplus EVALPLUS_TIMEOUT_PER_TASK default


@dataclass(frozen=True)
class HumanEvalProblem:
    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    base_input: list
    plus_input: list
    atol: float

    @property
    def reference_program(self) -> str:
        return self.prompt + self.canonical_solution


def data_path(path: str | Path | None = None) -> Path:
    return Path(path) if path is not None else data_dir() / DATA_FILE


def load_problems(path: str | Path | None = None, limit: int | None = None) -> list[HumanEvalProblem]:
    """The 164 problems in file order (``limit``: the first N)."""
    p = data_path(path)
    if not p.is_file():
        raise FileNotFoundError(f"HumanEval+ data not found at {p} (expected {DATA_FILE} under the data dir)")
    opener = gzip.open if p.suffix == ".gz" else open
    problems = []
    with opener(p, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{p}:{lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{p}:{lineno}: expected a JSON object")
            missing = {
                "task_id",
                "prompt",
                "entry_point",
                "canonical_solution",
                "base_input",
                "plus_input",
            } - set(row)
            if missing:
                raise ValueError(f"{p}:{lineno}: missing fields {sorted(missing)}")
            problems.append(
                HumanEvalProblem(
                    row["task_id"],
                    row["prompt"],
                    row["entry_point"],
                    row["canonical_solution"],
                    row["base_input"],
                    row["plus_input"],
                    float(row.get("atol", 0) or 0),
                )
            )
    return problems[:limit] if limit is not None else problems


def _file_md5(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Expected outputs
# ------------------------------------------------------------------------------------------------------------
def ground_truth_cache_path(path: str | Path | None = None) -> Path:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return cache_dir() / "code" / f"humanevalplus-{_file_md5(data_path(path))[:12]}-py{py}.json"


def _reference_run(problem: HumanEvalProblem, which: str, config: SandboxConfig | None) -> Verdict:
    inputs = problem.base_input if which == "base" else problem.plus_input
    return run_calls(
        problem.reference_program, problem.entry_point, inputs, timeout_s=300.0, memory_mb=2048, config=config
    )


def _to_json(value: Any) -> Any:
    """The cache form of a decoded output (large outputs stay digests)."""
    if isinstance(value, codec.Digest):
        return {"$digest": value.hexdigest}
    return json.loads(codec.encode_value(value))


def ground_truth(
    problems: list[HumanEvalProblem],
    workers: int = 2,
    path: str | Path | None = None,
    cache: Path | None = None,
    config: SandboxConfig | None = None,
) -> dict[str, dict[str, Any]]:
    """``task_id -> {"base": [outputs], "base_time": [s], "plus": [...], "plus_time": [...]}`` (decoded values).

    Missing tasks are computed in the sandbox and added to the cache file (atomically).
    """
    from evaluators.common import atomic_write_json

    cache = cache or ground_truth_cache_path(path)
    stored: dict[str, Any] = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [
        (p, which) for p in problems for which in ("base", "plus") if f"{p.task_id}/{which}" not in stored
    ]
    if todo:
        log.info("computing HumanEval+ expected outputs for %d task parts (cached in %s)", len(todo), cache)
        verdicts = run_many(
            [partial(_reference_run, p, w, config) for p, w in todo],
            workers=workers,
            desc="HumanEval+ expected outputs",
        )
        for (p, which), v in zip(todo, verdicts, strict=True):
            if not v.passed:
                raise RuntimeError(
                    f"{p.task_id}: the canonical solution failed on its {which} inputs "
                    f"({v.status}: {v.detail}; {v.stderr_tail[-300:]})"
                )
            stored[f"{p.task_id}/{which}"] = {
                "outputs": [_to_json(o) for o in v.outputs],
                "times": v.call_times,
            }
        atomic_write_json(cache, stored, indent=None)
    out = {}
    for p in problems:
        b, s = stored[f"{p.task_id}/base"], stored[f"{p.task_id}/plus"]
        out[p.task_id] = {
            "base": [codec.decode_value(o) for o in b["outputs"]],
            "base_time": b["times"],
            "plus": [codec.decode_value(o) for o in s["outputs"]],
            "plus_time": s["times"],
        }
    return out


# ------------------------------------------------------------------------------------------------------------
# Comparison
# ------------------------------------------------------------------------------------------------------------
def _is_floats(x: Any) -> bool:
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(i, float) for i in x)


def _poly(xs: list, x: float) -> float:
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _allclose(out: Any, exp: Any, atol: float, rtol: float = 1e-7) -> bool:
    """numpy.allclose semantics for a number or a flat sequence of numbers (same length)."""
    import numpy as np

    try:
        return bool(
            np.allclose(
                np.asarray(out, dtype=np.float64), np.asarray(exp, dtype=np.float64), rtol=rtol, atol=atol
            )
        )
    except (TypeError, ValueError, OverflowError):
        return False


def output_matches(out: Any, exp: Any, atol: float, entry_point: str = "", inp: Any = None) -> bool:
    """Whether a candidate's output for one input is accepted (see the module docstring)."""
    if entry_point == "find_zero":
        try:
            return (
                isinstance(out, (int, float))
                and not isinstance(out, bool)
                and abs(_poly(inp[0], out)) <= atol
            )
        except (TypeError, ValueError, OverflowError, IndexError):
            return False
    exact = out == exp
    if atol == 0 and _is_floats(exp):
        atol = 1e-6
    if not exact and atol != 0:
        if type(out) is not type(exp):
            return False
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False
        return _allclose(out, exp, atol)
    return bool(exact)


# ------------------------------------------------------------------------------------------------------------
# Grading
# ------------------------------------------------------------------------------------------------------------
def _time_limits(times: list[float], min_time_limit: float, factor: float) -> tuple[list[float], float]:
    limits = [max(min_time_limit, factor * t) for t in times]
    return limits, min(MAX_TASK_TIMEOUT, sum(limits)) + 1.0


def _check(
    program: str,
    problem: HumanEvalProblem,
    which: str,
    gt: dict,
    min_time_limit: float,
    factor: float,
    memory_mb: int,
    config: SandboxConfig | None,
) -> tuple[str, str]:
    inputs = problem.base_input if which == "base" else problem.plus_input
    expected, times = gt[which], gt[f"{which}_time"]
    limits, total = _time_limits(times, min_time_limit, factor)
    v = run_calls(
        program,
        problem.entry_point,
        inputs,
        timeout_s=total,
        memory_mb=memory_mb,
        call_timeouts=limits,
        config=config,
    )
    if v.status != "passed":
        where = f" on {which} input {v.failed_test}" if v.failed_test is not None else ""
        return v.status, f"{v.detail}{where}"
    for i, (out, exp) in enumerate(zip(v.outputs, expected, strict=True)):
        if not output_matches(out, exp, problem.atol, problem.entry_point, inputs[i]):
            return "failed", f"wrong output on {which} input {i}"
    return "passed", ""


def grade_program(
    program: str,
    problem: HumanEvalProblem,
    gt: dict,
    min_time_limit: float = MIN_TIME_LIMIT,
    factor: float = GT_TIME_LIMIT_FACTOR,
    memory_mb: int = 1024,
    config: SandboxConfig | None = None,
) -> dict[str, Any]:
    """Grade one program: ``{"base_status", "plus_status", "detail", "correct_base", "correct"}``.

    ``correct`` is the HumanEval+ verdict (base and plus tests); the plus tests run only when the base tests pass
    (otherwise ``plus_status`` repeats the base failure, as HumanEval+ counts it failed either way).
    """
    base_status, detail = _check(program, problem, "base", gt, min_time_limit, factor, memory_mb, config)
    plus_status = base_status
    if base_status == "passed":
        plus_status, detail = _check(program, problem, "plus", gt, min_time_limit, factor, memory_mb, config)
    return {
        "base_status": base_status,
        "plus_status": plus_status,
        "detail": detail,
        "correct_base": base_status == "passed",
        "correct": base_status == plus_status == "passed",
    }
