"""LiveCodeBench code generation: data, release-date window, grading (stdin/stdout and LeetCode-style calls).

Data: ``data/code/livecodebench/deepcoder_lcb_test_2408_2501.json`` (DeepCoder's LCB test split; see
``data/code/SOURCES.md``), or any JSON/JSONL file of rows with ``problem``/``question_content``, ``starter_code``,
``tests`` or ``public_test_cases``/``private_test_cases`` (JSON strings), and optionally ``contest_date``.

- Tests that appear in more than half of the problems are dropped (``drop_shared_tests``): in the shipped file
  the same 12 unrelated "functional" tests are appended to every problem (a broken private-test export), so
  the remaining tests are the public ones.
- Release-date window: rows with a ``contest_date`` are kept when it lies in ``[date_from, date_to)``. The
  shipped file has no dates; its problems were released in ``file_window`` (2024-08-01 to 2025-02-01, DeepCoder's
  window), so a requested window must contain the file's window or loading fails with an explanation.
- Grading, as LiveCodeBench does: stdin problems compare stdout line by line (trailing whitespace ignored,
  numeric tokens compared as decimals); functional problems call ``Solution().<method>(*args)`` with one JSON
  value per input line and compare with ``==`` against the JSON output (a tuple result counts as a list). Each
  test has its own time limit (``timeout_s``, LiveCodeBench's default 6 s). Programs get LiveCodeBench-style
  imports prepended (``typing``, ``collections``, ``heapq``, ...), since LeetCode starter code assumes them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.code.sandbox import SandboxConfig, run_calls, run_stdio_suite
from evaluators.code.sanitize import extract_code
from resrl.paths import data_dir

log = logging.getLogger(__name__)

DATA_FILE = Path("code") / "livecodebench" / "deepcoder_lcb_test_2408_2501.json"
FILE_WINDOW = (
    "2024-08-01",
    "2025-02-01",
)  # release window of the shipped file (DeepCoder: "aug 24 to jan 25")
DEFAULT_TIMEOUT_S = 6.0
IMPORT_HEADER = (
    "from typing import *\nfrom collections import *\nfrom functools import *\nfrom itertools import *\n"
    "from heapq import *\nfrom bisect import *\nfrom string import *\nimport math, heapq, bisect, itertools, "
    "collections, functools, string, re, sys\nsys.setrecursionlimit(50000)\n"
)


@dataclass(frozen=True)
class LCBTest:
    input: str
    output: str
    testtype: str  # "stdin" | "functional"


@dataclass(frozen=True)
class LCBProblem:
    id: str
    statement: str
    starter_code: str
    tests: tuple[LCBTest, ...]
    contest_date: str | None = None

    @property
    def kind(self) -> str:
        return "functional" if self.tests[0].testtype == "functional" else "stdin"

    @property
    def entry_point(self) -> str:
        """``Class.method`` (or a function name) from the starter code."""
        return entry_point_from_starter(self.starter_code)


def entry_point_from_starter(starter: str) -> str:
    cls = re.search(r"^class\s+(\w+)", starter, re.MULTILINE)
    fns = re.findall(r"^\s*def\s+(\w+)\s*\(", starter, re.MULTILINE)
    fns = [f for f in fns if f != "__init__"]
    if not fns:
        raise ValueError(f"starter code defines no function: {starter[:80]!r}")
    return f"{cls.group(1)}.{fns[0]}" if cls else fns[0]


def _parse_date(s: str | dt.date | None) -> dt.date | None:
    if s is None or isinstance(s, dt.date):
        return s
    return dt.date.fromisoformat(str(s)[:10])


def _rows(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON array of problems")
    return data


def _tests_of(row: dict, where: str) -> list[LCBTest]:
    raw: Any = row.get("tests")
    if raw is None:
        raw = []
        for key in ("public_test_cases", "private_test_cases"):
            part = row.get(key) or "[]"
            if isinstance(part, str):
                try:
                    part = json.loads(part)
                except json.JSONDecodeError as e:
                    raise ValueError(
                        f"{where}: {key} is not JSON (compressed private tests are not supported)"
                    ) from e
            raw += part
    elif isinstance(raw, str):
        raw = json.loads(raw)
    tests = []
    for t in raw:
        kind = t.get("testtype", "stdin")
        if kind not in ("stdin", "functional"):
            raise ValueError(f"{where}: testtype {kind!r}; allowed: stdin, functional")
        tests.append(LCBTest(str(t["input"]), str(t["output"]), kind))
    return tests


def load_problems(
    path: str | Path | None = None,
    limit: int | None = None,
    date_from: str | None = FILE_WINDOW[0],
    date_to: str | None = FILE_WINDOW[1],
    file_window: tuple[str, str] = FILE_WINDOW,
    drop_shared_tests: bool = True,
) -> list[LCBProblem]:
    """Problems released in ``[date_from, date_to)`` with their usable tests (``limit``: the first N)."""
    p = Path(path) if path is not None else data_dir() / DATA_FILE
    if not p.is_file():
        raise FileNotFoundError(f"LiveCodeBench data not found at {p}")
    rows = _rows(p)
    lo, hi = _parse_date(date_from), _parse_date(date_to)
    if lo and hi and not lo < hi:
        raise ValueError(f"date_from {lo} must be before date_to {hi}")
    dated = any(r.get("contest_date") for r in rows)
    if not dated:
        f_lo, f_hi = _parse_date(file_window[0]), _parse_date(file_window[1])
        if (lo and lo > f_lo) or (hi and hi < f_hi):
            raise ValueError(
                f"{p.name} has no per-problem dates; its problems were released in "
                f"[{f_lo}, {f_hi}), which the requested window [{lo}, {hi}) does not contain"
            )
    parsed = []
    for i, r in enumerate(rows):
        where = f"{p}: problem {i}"
        statement = r.get("problem") or r.get("question_content")
        if not statement:
            raise ValueError(f"{where}: no 'problem' or 'question_content'")
        date = str(r["contest_date"])[:10] if r.get("contest_date") else None
        if date and ((lo and _parse_date(date) < lo) or (hi and _parse_date(date) >= hi)):
            continue
        pid = str(r.get("question_id") or f"lcb-{i:04d}")
        parsed.append((pid, statement, r.get("starter_code") or "", _tests_of(r, where), date))
    if drop_shared_tests and len(parsed) >= 10:
        counts = Counter(t for *_, tests, _ in parsed for t in set(tests))
        shared = {t for t, c in counts.items() if c > len(parsed) / 2}
        if shared:
            log.info("LiveCodeBench: dropping %d tests shared by more than half of the problems", len(shared))
        parsed = [(a, b, c, [t for t in tests if t not in shared], d) for a, b, c, tests, d in parsed]
    problems = []
    for pid, statement, starter, tests, date in parsed:
        if not tests:
            raise ValueError(f"{p}: problem {pid} has no tests left")
        if len({t.testtype for t in tests}) != 1:
            raise ValueError(f"{p}: problem {pid} mixes stdin and functional tests")
        problems.append(LCBProblem(pid, statement, starter, tuple(tests), date))
    return problems[:limit] if limit is not None else problems


def program_from_response(response: str) -> str:
    return IMPORT_HEADER + extract_code(response) + "\n"


def _functional_args(test: LCBTest) -> list:
    return [json.loads(line) for line in test.input.split("\n") if line.strip()]


def grade_program(
    program: str,
    problem: LCBProblem,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = 1024,
    config: SandboxConfig | None = None,
) -> dict[str, Any]:
    """``{"status", "detail", "correct", "tests_passed", "tests_total"}`` for one program on all tests."""
    n = len(problem.tests)
    if problem.kind == "stdin":
        v = run_stdio_suite(
            program,
            [(t.input, t.output) for t in problem.tests],
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            compare="lines",
            config=config,
        )
        return v.grade_record(n)
    inputs = [_functional_args(t) for t in problem.tests]
    v = run_calls(
        program,
        problem.entry_point,
        inputs,
        timeout_s=timeout_s * n + 1.0,
        memory_mb=memory_mb,
        call_timeouts=[timeout_s] * n,
        config=config,
    )
    if v.status != "passed":
        where = f" (test {v.failed_test})" if v.failed_test is not None else ""
        return {
            "status": v.status,
            "detail": f"{v.detail}{where}",
            "correct": False,
            "tests_passed": v.failed_test or 0,
            "tests_total": n,
        }
    for i, (out, t) in enumerate(zip(v.outputs, problem.tests, strict=True)):
        if isinstance(out, tuple):
            out = list(out)
        if out != json.loads(t.output):
            return {
                "status": "failed",
                "detail": f"wrong answer on test {i}",
                "correct": False,
                "tests_passed": i,
                "tests_total": n,
            }
    return {"status": "passed", "detail": "", "correct": True, "tests_passed": n, "tests_total": n}
