"""The supervisor's judgement without any process: hand-built observations of a worker -> the unit's verdict
(``child.verdict.classify``), and the status channel's bookkeeping of calls, records and forgeries
(``child.pump._StatusChannel``). Nothing here forks, waits or reads a clock that matters."""

from __future__ import annotations

import os
import signal

import pytest

from evaluators.code.sandbox.child import pump, verdict
from evaluators.code.sandbox.child.protocol import (
    CallDone,
    CallStarted,
    Limits,
    Record,
    UnitResult,
    status_line,
)
from evaluators.code.sandbox.child.verdict import (
    STOP_OUTPUT_LIMIT,
    STOP_RECORD_LIMIT,
    STOP_TIMEOUT,
    Observation,
    classify,
)

LIMITS = Limits(
    memory_mb=256,
    cpu_s=2.0,
    wall_s=3.0,
    fsize_mb=16,
    nproc=64,
    nofile=64,
    tmpfs_mb=16,
    stdout_cap=100,
    record_cap=1000,
)
PASSED = Record("n", "passed", asserts=3)


@pytest.fixture(autouse=True)
def no_processes(monkeypatch):
    """Proof that classification is pure: any attempt to fork, wait or signal fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the classifier touched a process")

    for name in ("fork", "wait4", "waitpid", "kill", "killpg"):
        monkeypatch.setattr(os, name, forbidden)


def obs(**kw) -> Observation:
    return Observation(**({"index": 0, "kind": "tests", "wall_s": 0.123456, "cpu_s": 0.05} | kw))


@pytest.mark.parametrize(
    ("observation", "status", "detail"),
    [
        # the harness's record decides, whatever the exit
        (obs(record=PASSED), "passed", ""),
        (obs(record=PASSED, exit_signal=int(signal.SIGKILL), exit_code=None), "passed", ""),
        (obs(record=Record("n", "failed", "AssertionError", line=2, asserts=2)), "failed", "AssertionError"),
        (obs(record=Record("n", "syntax_error", "SyntaxError: x")), "syntax_error", "SyntaxError: x"),
        # no record: never a pass, whatever the exit code or output
        (obs(exit_code=0), "runtime_error", "the process ended (code 0) without a harness record"),
        (
            obs(kind="stdio", exit_code=0, stdout=b"PASSED\n"),
            "runtime_error",
            "(code 0) without a harness record",
        ),
        (obs(exit_code=125, stderr_tail=b"sandbox worker set-up failed"), "runtime_error", "(code 125)"),
        (obs(exit_signal=int(signal.SIGSEGV), exit_code=None), "runtime_error", "(signal SIGSEGV)"),
        (
            obs(exit_signal=40, exit_code=None),
            "runtime_error",
            "(signal 40)",
        ),  # a real-time signal has no name
        # CPU time: SIGXCPU, or SIGKILL with the allowance used up
        (obs(exit_signal=int(signal.SIGXCPU), exit_code=None), "timeout", "CPU-time limit of 2.0 s exceeded"),
        (obs(exit_signal=int(signal.SIGKILL), exit_code=None, cpu_s=1.97), "timeout", "CPU-time limit"),
        (
            obs(exit_signal=int(signal.SIGKILL), exit_code=None, cpu_s=0.5),
            "runtime_error",
            "(signal SIGKILL)",
        ),
        # memory, recognised from stderr when no record came
        (obs(exit_code=1, stderr_tail=b"Traceback...\nMemoryError\n"), "memory", "out of memory"),
        (obs(exit_code=1, stderr_tail=b"OSError: Cannot allocate memory"), "memory", "out of memory"),
        # the pump stopped the worker
        (
            obs(stop=STOP_TIMEOUT, exit_signal=9, exit_code=None),
            "timeout",
            "wall-clock limit of 3 s exceeded",
        ),
        (obs(stop=STOP_TIMEOUT, record=PASSED), "passed", ""),  # the record came in time: only slow to exit
        (obs(stop=STOP_OUTPUT_LIMIT, record=PASSED), "failed", "output limit of 100 bytes exceeded"),
        (obs(stop=STOP_RECORD_LIMIT), "failed", "result larger than 1000 bytes"),
    ],
)
def test_classify(observation, status, detail):
    r = classify(observation, LIMITS)
    assert type(r) is UnitResult
    assert r.status == status and detail in r.detail, r


def test_a_call_that_overran_its_own_limit_is_named():
    r = classify(obs(kind="calls", stop=STOP_TIMEOUT, timed_call=1), LIMITS, call_limits=(0.5, 1.5, 9.0))
    assert (r.status, r.call_index, r.detail) == ("timeout", 1, "wall-clock limit of 1.5 s exceeded")


def test_record_fields_and_facts_are_carried_over():
    rec = Record(
        "n", "runtime_error", "ValueError: 3", call_index=2, outputs=(1, {"$tuple": [2]}), times=(0.1, 0.2)
    )
    r = classify(obs(kind="calls", record=rec, bad_records=4, wall_s=1.234567, cpu_s=0.98765), LIMITS)
    assert (r.status, r.detail, r.call_index, r.outputs, r.times) == (
        "runtime_error",
        "ValueError: 3",
        2,
        (1, {"$tuple": [2]}),
        (0.1, 0.2),
    )
    assert (r.bad_records, r.wall_s, r.cpu_s, r.exit, r.stdout) == (4, 1.2346, 0.9877, "code 0", None)
    r = classify(obs(record=Record("n", "failed", "AssertionError", line=7, asserts=7)), LIMITS)
    assert (r.line, r.asserts) == (7, 7)


def test_stdio_results_carry_stdout_up_to_one_byte_past_the_cap():
    r = classify(obs(kind="stdio", record=Record("n", "completed"), stdout=b"x" * 500), LIMITS)
    assert r.status == "completed" and r.stdout == b"x" * 101  # the parent sees that the cap was exceeded
    assert (
        classify(obs(kind="stdio", record=Record("n", "completed"), stdout=b"42\n"), LIMITS).stdout == b"42\n"
    )


def test_stderr_tail_is_decoded_leniently():
    r = classify(obs(exit_code=1, stderr_tail=b"bad \xff byte"), LIMITS)
    assert r.stderr_tail == "bad \ufffd byte"


def test_exit_text():
    assert verdict.exit_text(obs(exit_code=3)) == "code 3"
    assert verdict.exit_text(obs(exit_signal=int(signal.SIGTERM), exit_code=None)) == "signal SIGTERM"


# ---------------------------------------------------------------------------------------------- status channel
def test_status_channel_keeps_the_first_record_with_the_nonce_only():
    ch = pump._StatusChannel("good", cap=10_000)
    forged = status_line(Record("0", "passed"))
    assert not ch.add(forged + b"Rnot json\n" + status_line(Record("good", "failed", "x", line=1)))
    assert ch.add(status_line(Record("good", "passed"))) is False  # a second record, even with the nonce
    assert ch.record == Record("good", "failed", "x", line=1)
    assert ch.bad_records == 3  # the forged nonce, the malformed line, the second record


def test_status_channel_follows_calls_across_chunks():
    ch = pump._StatusChannel("n", cap=10_000)
    line = status_line(CallStarted(3))
    ch.add(line[:1])
    assert ch.call is None  # no complete line yet
    ch.add(line[1:])
    assert ch.call == 3
    ch.add(b"Pgarbage\n")  # malformed call lines are ignored, not counted as records
    assert ch.call == 3 and ch.bad_records == 0
    ch.add(status_line(CallDone()))
    assert ch.call is None


def test_status_channel_reports_its_cap():
    ch = pump._StatusChannel("n", cap=10)
    assert ch.add(b"D\n") is False
    assert ch.add(b"x" * 20) is True
    ch.add_raw(b"more")  # past the cap: dropped
    assert len(ch.buf) == 20
