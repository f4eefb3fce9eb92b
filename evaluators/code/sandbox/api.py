"""The sandbox's public functions: run a program against assert tests, stdin/stdout cases or calls, and turn the
supervisor's unit results into one ``Verdict``; plus a bounded pool to run many. Comparisons with expected answers
happen here, outside the sandbox.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from evaluators.code.compare import stdout_matches
from evaluators.code.sandbox.child.asserts import compile_tests
from evaluators.code.sandbox.child.codec import UNSUPPORTED_TEXT, decode_value, encode_value
from evaluators.code.sandbox.child.protocol import Unit, UnitResult
from evaluators.code.sandbox.launch import execute
from evaluators.code.sandbox.settings import DEFAULT_CONFIG, STATUSES, SandboxConfig, Verdict


def _verdict_from(result: UnitResult, mode: str) -> Verdict:
    status = result.status if result.status in STATUSES or result.status == "completed" else "runtime_error"
    return Verdict(
        status=status,
        detail=str(result.detail),
        wall_s=float(result.wall_s),
        cpu_s=float(result.cpu_s),
        stderr_tail=str(result.stderr_tail),
        mode=mode,
    )


def run_tests(
    program: str,
    tests: str,
    timeout_s: float = 10.0,
    memory_mb: int = 1024,
    config: SandboxConfig | None = None,
) -> Verdict:
    """Run ``program`` then the assert-style ``tests`` in the same sandboxed process.

    ``passed`` only if the harness ran every statement of ``tests`` to the end. The tests are compiled before
    the program starts; each ``assert`` reports its line, and ``assert a == b`` is False when exactly one side is
    plain data (so an always-equal object cannot pass). Builtins and already-imported modules are restored
    before the tests run. Test code that does not compile raises ``SyntaxError`` here (a caller bug).
    """
    compile_tests(tests)  # validate in the parent: raises SyntaxError naming the line
    results, mode = execute(
        [Unit("tests", program, tests=tests)], timeout_s, memory_mb, config or DEFAULT_CONFIG
    )
    r = results[0]
    v = _verdict_from(r, mode)
    if v.status == "completed":
        v.status = "runtime_error"
    v.failed_line = r.line if v.status != "passed" and r.line else None
    v.tests_total = v.tests_passed = int(r.asserts)
    if v.status == "failed" and v.failed_line is not None:
        lines = tests.splitlines()
        src = lines[v.failed_line - 1].strip() if 0 < v.failed_line <= len(lines) else ""
        v.detail = f"line {v.failed_line}: {src}" + (f" ({v.detail})" if v.detail else "")
        v.tests_passed = max(0, v.tests_total - 1)
    return v


def _judge_stdio(r: UnitResult, expected: str, cap: int, float_tol: float | None, compare: str) -> UnitResult:
    """A stdin/stdout unit's result with its status decided: ``completed`` becomes ``passed`` or ``failed``."""
    if r.status == "passed":  # only this comparison may pass a stdin/stdout program
        return r._replace(
            status="runtime_error", detail="the sandbox reported a verdict the parent must decide"
        )
    if r.status != "completed":
        return r
    out = r.stdout or b""
    if len(out) > cap:
        return r._replace(status="failed", detail=f"output limit of {cap} bytes exceeded")
    if not stdout_matches(out.decode("utf-8", "replace"), expected, float_tol=float_tol, mode=compare):
        got = out[:120].decode("utf-8", "replace")
        return r._replace(status="failed", detail=f"wrong answer on test {r.index}; output starts {got!r}")
    return r._replace(status="passed")


def run_stdio_suite(
    program: str,
    cases: Sequence[tuple[str, str]],
    timeout_s: float = 10.0,
    memory_mb: int = 1024,
    float_tol: float | None = None,
    compare: str = "lines",
    stop_on_failure: bool = True,
    config: SandboxConfig | None = None,
) -> Verdict:
    """Run ``program`` once per ``(stdin, expected_stdout)`` case, each in a fresh worker process.

    The expected output never enters the sandbox: the parent compares (``compare.stdout_matches`` with
    ``compare`` = ``"lines"`` or ``"tokens"`` and an optional float tolerance). ``timeout_s``/``memory_mb`` apply
    to each case. With ``stop_on_failure`` the remaining cases are skipped after the first failure.
    """
    if not cases:
        raise ValueError("run_stdio_suite needs at least one (stdin, expected_stdout) case")
    units = [Unit("stdio", program, stdin=stdin) for stdin, _ in cases]
    cap = (config or DEFAULT_CONFIG).stdout_cap_bytes
    judged: list[UnitResult] = []

    def judge(r: UnitResult) -> bool:
        expected = cases[r.index][1] if r.index < len(cases) else ""
        j = _judge_stdio(r, expected, cap, float_tol, compare)
        judged.append(j)
        return j.status == "passed" or not stop_on_failure

    _, mode = execute(units, timeout_s, memory_mb, config or DEFAULT_CONFIG, on_unit=judge)
    failures = [r for r in judged if r.status != "passed"]
    if failures:
        v = _verdict_from(failures[0], mode)
        v.failed_test = failures[0].index
    else:
        v = Verdict(status="passed", mode=mode)
    v.tests_passed = sum(1 for r in judged if r.status == "passed")
    v.tests_total = len(cases)
    v.wall_s = sum(float(r.wall_s) for r in judged)
    v.cpu_s = sum(float(r.cpu_s) for r in judged)
    return v


def run_stdio(
    program: str,
    stdin: str,
    expected_stdout: str,
    timeout_s: float = 10.0,
    memory_mb: int = 1024,
    float_tol: float | None = None,
    compare: str = "lines",
    config: SandboxConfig | None = None,
) -> Verdict:
    """One stdin/stdout test (see ``run_stdio_suite``)."""
    return run_stdio_suite(
        program, [(stdin, expected_stdout)], timeout_s, memory_mb, float_tol, compare, config=config
    )


def run_calls(
    program: str,
    entry_point: str,
    inputs: Sequence[Sequence[Any]],
    timeout_s: float = 10.0,
    memory_mb: int = 1024,
    call_timeouts: Sequence[float] | None = None,
    config: SandboxConfig | None = None,
) -> Verdict:
    """Run ``program``, then call ``entry_point(*args)`` for every ``args`` in ``inputs`` and return the outputs.

    ``entry_point`` is a function name or ``"Class.method"`` (a fresh instance per call, as LeetCode-style
    problems need). Inputs are plain data, deep-copied per call. The verdict status is ``passed`` when every
    call returned (the caller compares ``Verdict.outputs`` with the expected values, which never enter the
    sandbox); otherwise the error of call ``failed_test``. ``call_timeouts[i]`` bounds call ``i`` (wall clock,
    enforced from outside); ``timeout_s`` bounds the whole run.
    """
    if call_timeouts is not None and len(call_timeouts) != len(inputs):
        raise ValueError(f"call_timeouts has {len(call_timeouts)} entries for {len(inputs)} inputs")
    encoded = []
    for i, args in enumerate(inputs):
        text = encode_value(tuple(args))
        if text == UNSUPPORTED_TEXT:
            raise ValueError(f"input {i} is not plain data (lists, tuples, dicts, sets, str, numbers, None)")
        encoded.append(json.loads(text))
    limits = tuple(float(t) for t in call_timeouts) if call_timeouts is not None else ()
    unit = Unit("calls", program, entry=entry_point, inputs=tuple(encoded), call_limits=limits)
    results, mode = execute([unit], timeout_s, memory_mb, config or DEFAULT_CONFIG)
    r = results[0]
    v = _verdict_from(r, mode)
    v.outputs = [decode_value(o) for o in r.outputs]
    v.call_times = [float(t) for t in r.times]
    v.tests_total, v.tests_passed = len(inputs), len(v.outputs)
    if v.status == "completed" and len(v.outputs) == len(inputs):
        v.status = "passed"
    elif v.status == "completed":
        v.status, v.detail = "runtime_error", f"only {len(v.outputs)}/{len(inputs)} outputs were recorded"
    if v.status != "passed":  # the failing call, when one failed (None for program-level errors)
        v.failed_test = r.call_index
    return v


T = TypeVar("T")


def run_many(
    jobs: Sequence[Callable[[], T]], workers: int = 2, desc: str = "sandbox", progress: bool = True
) -> list[T]:
    """Run zero-argument ``jobs`` (e.g. ``functools.partial(run_tests, prog, tests)``) with at most ``workers``
    sandboxes at a time; results come back in input order. A tqdm bar shows progress."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not jobs:
        return []
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc=desc, disable=not progress, dynamic_ncols=True)
    lock = threading.Lock()

    def wrapped(job: Callable[[], T]) -> T:
        try:
            return job()
        finally:
            with lock:
                bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(wrapped, job) for job in jobs]
            return [f.result() for f in futures]
    finally:
        bar.close()
