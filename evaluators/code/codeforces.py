"""Codeforces (the 408 CodeElo / DeepCoder test problems): data with difficulty ratings, grading.

Files (``data/code/codeforces/``, see ``data/code/SOURCES.md``): ``deepcoder_test_codeforces.json`` (statement and
tests), ``deepcoder_metadata_cf.json`` (problem ids, same order), ``codeelo_problems_408_with_ratings.json``
(rating, limits, interaction flag; same ids in the same order, checked), ``deepcoder_ratings_2024.json`` (the
rated-users table for percentiles, see ``evaluators.code.elo``).

Grading: every test through stdin/stdout with Codeforces' default checker semantics (whitespace-separated tokens;
numeric tokens equal as decimals), with the absolute-or-relative tolerance the statement states ("... error does
not exceed 10^{-k}") when it states one. Limits per test: ``max(min_timeout_s, time_factor * time limit)`` and an
address-space limit of ``max(512, memory_factor * memory limit)`` MB (RLIMIT_AS counts virtual memory, which is
larger than the resident memory Codeforces measures). Limitations, from the data: 378 of the 408 problems have
only the statement's examples as tests; there are no special checkers, so problems that accept several answers
(``multi_answer``) can reject a right answer; the 17 interactive problems are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.code.sandbox import SandboxConfig, run_stdio_suite
from evaluators.code.sanitize import extract_code
from resrl.paths import data_dir

DATA_DIR = Path("code") / "codeforces"
PROBLEMS_FILE = "deepcoder_test_codeforces.json"
IDS_FILE = "deepcoder_metadata_cf.json"
RATINGS_FILE = "codeelo_problems_408_with_ratings.json"
RATING_TABLE_FILE = "deepcoder_ratings_2024.json"

_TOL = re.compile(
    r"(?:absolute|relative)[^.]{0,120}?error[^.]{0,120}?10\s*\^\s*\{?\s*-\s*(\d+)\s*\}?", re.I | re.S
)
_MULTI = re.compile(
    r"(?:print|output)\s+any(?:\s+(?:one|of\s+them|valid|such|possible|correct))?|any\s+of\s+them"
    r"|multiple\s+(?:possible\s+|valid\s+|correct\s+)?(?:answers|solutions)",
    re.I,
)


@dataclass(frozen=True)
class CFProblem:
    id: str
    title: str
    statement: str
    tests: tuple[tuple[str, str], ...]
    rating: int
    time_limit_s: float
    memory_mb: int
    division: str
    interactive: bool
    float_tol: float | None
    multi_answer: bool


def float_tolerance(text: str) -> float | None:
    """The tolerance a statement allows ("absolute or relative error ... 10^{-6}" -> 1e-6), else None."""
    m = _TOL.search(text)
    return 10.0 ** -int(m.group(1)) if m else None


def load_problems(
    root: str | Path | None = None, limit: int | None = None, skip_interactive: bool = True
) -> list[CFProblem]:
    """The rated problems in file order (interactive ones dropped unless ``skip_interactive`` is False)."""
    base = Path(root) if root is not None else data_dir() / DATA_DIR
    paths = {name: base / name for name in (PROBLEMS_FILE, IDS_FILE, RATINGS_FILE)}
    for name, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"Codeforces data file {name} not found in {base}")
    rows = json.loads(paths[PROBLEMS_FILE].read_text(encoding="utf-8"))
    ids = json.loads(paths[IDS_FILE].read_text(encoding="utf-8"))
    meta = json.loads(paths[RATINGS_FILE].read_text(encoding="utf-8"))
    if not len(rows) == len(ids) == len(meta):
        raise ValueError(f"{base}: {len(rows)} problems, {len(ids)} ids and {len(meta)} rated entries differ")
    problems = []
    for i, (row, pid, m) in enumerate(zip(rows, ids, meta, strict=True)):
        if m.get("problem_id") != pid:
            raise ValueError(
                f"{base}: entry {i} is {pid} in {IDS_FILE} but {m.get('problem_id')} in {RATINGS_FILE}"
            )
        if not isinstance(m.get("rating"), int):
            raise ValueError(f"{base}: problem {pid} has no integer rating")
        text = row["problem"]
        tags = " ".join(m.get("tags") or [])
        interactive = bool((m.get("interaction") or "").strip()) or "interactive" in tags
        if interactive and skip_interactive:
            continue
        tests = tuple((str(t["input"]), str(t["output"])) for t in row["tests"])
        if not tests:
            raise ValueError(f"{base}: problem {pid} has no tests")
        full = " ".join([text, m.get("output") or "", m.get("description") or ""])
        problems.append(
            CFProblem(
                pid,
                m.get("title", ""),
                text,
                tests,
                m["rating"],
                m.get("time_limit_ms", 2000) / 1000.0,
                int(m.get("memory_limit_mb", 256)),
                m.get("div", ""),
                interactive,
                float_tolerance(full),
                _MULTI.search(full) is not None,
            )
        )
    return problems[:limit] if limit is not None else problems


def rating_table_path(root: str | Path | None = None) -> Path:
    base = Path(root) if root is not None else data_dir() / DATA_DIR
    return base / RATING_TABLE_FILE


def program_from_response(response: str) -> str:
    return extract_code(response) + "\n"


def grade_program(
    program: str,
    problem: CFProblem,
    time_factor: float = 2.0,
    min_timeout_s: float = 2.0,
    memory_factor: float = 2.0,
    config: SandboxConfig | None = None,
) -> dict[str, Any]:
    """``{"status", "detail", "correct", "tests_passed", "tests_total"}`` over all tests of ``problem``."""
    if problem.interactive:
        raise ValueError(f"{problem.id} is interactive and cannot be graded by stdin/stdout comparison")
    timeout = max(min_timeout_s, time_factor * problem.time_limit_s)
    memory = max(512, int(memory_factor * problem.memory_mb))
    v = run_stdio_suite(
        program,
        list(problem.tests),
        timeout_s=timeout,
        memory_mb=memory,
        float_tol=problem.float_tol,
        compare="tokens",
        config=config,
    )
    return v.grade_record(len(problem.tests))
