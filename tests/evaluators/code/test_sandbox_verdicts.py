"""Verdicts of honest programs in every sandbox mode: correct, wrong, slow, crashing, memory-hungry, invalid."""

from __future__ import annotations

import pytest

from evaluators.code.sandbox import SandboxConfig, run_calls, run_stdio, run_stdio_suite, run_tests

SQUARE_TESTS = "assert f(2) == 4\nassert f(3) == 9\nassert f(-1) == 1\n"


def test_run_tests_correct_passes(cfg):
    v = run_tests("def f(x):\n    return x * x\n", SQUARE_TESTS, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "passed", v
    assert v.tests_total == 3 and v.tests_passed == 3


def test_run_tests_wrong_names_the_failing_assert(cfg):
    # f(2) == 4 holds for x + x, f(3) == 9 does not: the failure is the assert on line 2.
    v = run_tests("def f(x):\n    return x + x\n", SQUARE_TESTS, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "failed"
    assert v.failed_line == 2
    assert "assert f(3) == 9" in v.detail


def test_run_tests_slow_program_times_out(cfg):
    v = run_tests(
        "def f(x):\n    while True:\n        pass\n", SQUARE_TESTS, timeout_s=1, memory_mb=256, config=cfg
    )
    assert v.status == "timeout"


def test_run_tests_crash_is_runtime_error(cfg):
    v = run_tests("def f(x):\n    return 1 // 0\n", SQUARE_TESTS, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "runtime_error"
    assert "ZeroDivisionError" in v.detail


def test_run_tests_memory_hog_is_memory(cfg):
    prog = "blob = bytearray(2 * 1024 ** 3)\ndef f(x):\n    return x * x\n"
    v = run_tests(prog, SQUARE_TESTS, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "memory"


def test_run_tests_syntax_error(cfg):
    v = run_tests("def f(x) return x\n", SQUARE_TESTS, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "syntax_error"


def test_run_tests_rejects_invalid_test_code():
    with pytest.raises(SyntaxError):
        run_tests("x = 1", "assert x ==", timeout_s=5)


def test_run_stdio_verdicts(cfg):
    add = "a, b = map(int, input().split())\nprint(a + b)\n"
    assert run_stdio(add, "2 3\n", "5\n", timeout_s=5, memory_mb=256, config=cfg).status == "passed"
    assert run_stdio(add, "2 3\n", "6\n", timeout_s=5, memory_mb=256, config=cfg).status == "failed"
    assert (
        run_stdio("import time\ntime.sleep(30)\n", "", "", timeout_s=1, memory_mb=256, config=cfg).status
        == "timeout"
    )
    assert (
        run_stdio("raise ValueError('x')\n", "", "", timeout_s=5, memory_mb=256, config=cfg).status
        == "runtime_error"
    )
    assert run_stdio("x = [0] * 10 ** 9\n", "", "", timeout_s=5, memory_mb=256, config=cfg).status == "memory"
    assert run_stdio("print(1\n", "", "1\n", timeout_s=5, memory_mb=256, config=cfg).status == "syntax_error"


def test_run_stdio_sys_exit_zero_after_output_is_a_normal_end(cfg):
    # Competitive programs often end with exit(); the answer printed before it is what is judged.
    v = run_stdio("import sys\nprint(42)\nsys.exit(0)\n", "", "42\n", timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "passed"
    v = run_stdio("import sys\nprint(42)\nsys.exit(3)\n", "", "42\n", timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "runtime_error"


def test_run_stdio_suite_stops_at_first_failure_and_names_it(cfg):
    cases = [("1\n", "2\n"), ("2\n", "4\n"), ("3\n", "7\n"), ("4\n", "8\n")]
    v = run_stdio_suite("print(2 * int(input()))\n", cases, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "failed" and v.failed_test == 2
    assert v.tests_passed == 2 and v.tests_total == 4
    v = run_stdio_suite("print(2 * int(input()))\n", cases[:2], timeout_s=5, memory_mb=256, config=cfg)
    assert v.passed and v.tests_passed == 2


def test_run_stdio_threads_are_joined_like_interpreter_shutdown(cfg):
    # The common recursion trick runs main() in a thread; the harness waits for non-daemon threads.
    prog = "import threading, time\ndef main():\n    time.sleep(0.2)\n    print('done')\nthreading.Thread(target=main).start()\n"
    assert run_stdio(prog, "", "done\n", timeout_s=5, memory_mb=256, config=cfg).status == "passed"


def test_run_calls_returns_plain_outputs_and_errors(cfg):
    prog = "def f(x):\n    return [x, (x, x), {x}, {'k': x}, None, 1.5]\n"
    v = run_calls(prog, "f", [[1], [2]], timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "passed"
    assert v.outputs == [[1, (1, 1), {1}, {"k": 1}, None, 1.5], [2, (2, 2), {2}, {"k": 2}, None, 1.5]]
    v = run_calls(
        "def f(x):\n    return 10 // x\n", "f", [[5], [0], [1]], timeout_s=5, memory_mb=256, config=cfg
    )
    assert v.status == "runtime_error" and v.failed_test == 1
    assert v.outputs == [2]


def test_run_calls_class_method_and_per_call_limit(cfg):
    prog = "import time\nclass Solution:\n    def go(self, s):\n        if s > 1:\n            time.sleep(30)\n        return s\n"
    v = run_calls(
        prog, "Solution.go", [[0], [1], [2]], timeout_s=20, memory_mb=256, call_timeouts=[1, 1, 1], config=cfg
    )
    assert v.status == "timeout" and v.failed_test == 2


def test_config_validation():
    with pytest.raises(ValueError, match="mode"):
        SandboxConfig(mode="docker")
    with pytest.raises(ValueError, match="memory_mb"):
        run_tests("x = 1", "assert x == 1", memory_mb=8)
    with pytest.raises(ValueError, match="timeout_s"):
        run_tests("x = 1", "assert x == 1", timeout_s=0)
