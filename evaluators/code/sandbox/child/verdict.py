"""The verdict classifier: what the pump saw of one unit's worker -> the supervisor's ``UnitResult``.

Pure: it touches no process, file or clock, so tests call it with hand-built ``Observation``s. The first rule that
applies decides:

1. the pump stopped the worker at a wall-clock deadline (the unit's, or one call's) -> ``timeout``, unless the
   harness's record had already arrived (the harness finished in time; the process was only slow to exit);
2. the pump stopped it because stdout, or the status channel, exceeded its cap -> ``failed``;
3. the harness's record (the one carrying the worker's nonce) -> its status, detail, line, asserts, call index,
   outputs and times;
4. no record: ended by SIGXCPU, or by SIGKILL having used its whole CPU allowance -> ``timeout``; ``MemoryError`` or
   ``Cannot allocate memory`` in its stderr -> ``memory``; anything else (an exit of any code, ``os._exit``, a
   signal) -> ``runtime_error``.

The program's exit code and output never make a pass: only the record can say ``passed`` or ``completed``.
"""

import signal
from typing import NamedTuple

from .protocol import Limits, Record, UnitResult

STOP_TIMEOUT, STOP_OUTPUT_LIMIT, STOP_RECORD_LIMIT = "timeout", "output_limit", "record_limit"
CPU_SLACK_S = 0.05  # a SIGKILL within this much of the CPU limit counts as hitting it
MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory")


class Observation(NamedTuple):
    """The raw facts of one unit's run, as the pump collected them."""

    index: int
    kind: str  # the unit's kind (stdio results carry their stdout)
    wall_s: float
    cpu_s: float  # user + system time of the worker
    exit_signal: int | None = None  # the signal that ended the worker, or None if it exited
    exit_code: int | None = 0  # its exit status when it exited
    stop: str | None = (
        None  # why the pump stopped it early: STOP_TIMEOUT, STOP_OUTPUT_LIMIT, STOP_RECORD_LIMIT
    )
    timed_call: int | None = (
        None  # with STOP_TIMEOUT: the call whose own limit ran out (None: the unit's limit)
    )
    record: Record | None = None  # the harness's record with the worker's nonce, if one arrived
    bad_records: int = 0
    stdout: bytes = b""
    stderr_tail: bytes = b""


def exit_text(obs: Observation) -> str:
    """``signal NAME`` or ``code N``."""
    if obs.exit_signal is None:
        return f"code {obs.exit_code}"
    try:
        return f"signal {signal.Signals(obs.exit_signal).name}"
    except ValueError:  # a real-time signal without a name
        return f"signal {obs.exit_signal}"


def _stopped(obs: Observation, stop: str, limits: Limits, call_limits) -> tuple[str, str, int | None]:
    """(status, detail, call index) of a worker the pump stopped early."""
    if stop == STOP_TIMEOUT:
        limit = limits.wall_s if obs.timed_call is None else call_limits[obs.timed_call]
        return "timeout", f"wall-clock limit of {limit:g} s exceeded", obs.timed_call
    if stop == STOP_OUTPUT_LIMIT:
        return "failed", f"output limit of {limits.stdout_cap} bytes exceeded", None
    if stop == STOP_RECORD_LIMIT:
        return "failed", f"result larger than {limits.record_cap} bytes", None
    raise ValueError(f"unknown stop reason {stop!r}")


def _without_record(obs: Observation, limits: Limits, exit_: str, stderr: str) -> tuple[str, str]:
    """(status, detail) of a worker that ended without a record."""
    cpu_exhausted = obs.cpu_s >= float(limits.cpu_s) - CPU_SLACK_S
    if obs.exit_signal == signal.SIGXCPU or (obs.exit_signal == signal.SIGKILL and cpu_exhausted):
        return "timeout", f"CPU-time limit of {limits.cpu_s} s exceeded"
    if any(marker in stderr for marker in MEMORY_MARKERS):
        return "memory", "out of memory"
    return "runtime_error", f"the process ended ({exit_}) without a harness record"


def classify(obs: Observation, limits: Limits, call_limits: tuple[float, ...] = ()) -> UnitResult:
    """The ``UnitResult`` of one unit (see the module's rules). ``call_limits`` are the unit's per-call limits."""
    exit_ = exit_text(obs)
    stderr = obs.stderr_tail.decode("utf-8", "replace")
    result = UnitResult(
        index=obs.index,
        status="runtime_error",
        exit=exit_,
        wall_s=round(obs.wall_s, 4),
        cpu_s=round(obs.cpu_s, 4),
        stderr_tail=stderr,
        bad_records=obs.bad_records,
        stdout=bytes(obs.stdout[: limits.stdout_cap + 1]) if obs.kind == "stdio" else None,
    )
    stop = obs.stop
    if stop == STOP_TIMEOUT and obs.record is not None:
        stop = None  # the harness finished in time; the process was only slow to exit
    if stop is not None:
        status, detail, call_index = _stopped(obs, stop, limits, call_limits)
        return result._replace(status=status, detail=detail, call_index=call_index)
    rec = obs.record
    if rec is not None:
        return result._replace(
            status=rec.status,
            detail=rec.detail,
            line=rec.line,
            asserts=rec.asserts,
            call_index=rec.call_index,
            outputs=rec.outputs,
            times=rec.times,
        )
    status, detail = _without_record(obs, limits, exit_, stderr)
    return result._replace(status=status, detail=detail)
