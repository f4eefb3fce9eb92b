"""The supervisor: the sandbox's trusted process (PID 1 of its PID namespace in namespace mode).

``main`` reads the ``Job`` from the parent, builds the namespace root (``rootfs``) and pre-imports the common modules,
answers ``Ready``, then for each unit: pump a fresh worker (``pump``), classify what it saw (``verdict``), send the
``UnitResult``, and wait for the parent's ``CONTINUE`` before the next unit. It is not dumpable, so a program running
under the supervisor's uid (user-namespace mode) can neither ptrace it nor read its memory.
"""

from __future__ import annotations

import ctypes
import os

from . import protocol as wire
from .pump import pump_unit
from .rootfs import enter_new_root
from .verdict import classify
from .worker import preimport

_PR_SET_DUMPABLE = 4


class ControlReader:
    """Unbuffered reader over fd 0 (the parent's channel): the job line, then one control byte per unit."""

    def __init__(self, fd: int = 0) -> None:
        self.fd, self.buf = fd, b""

    def readline(self) -> bytes:
        while b"\n" not in self.buf:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def read1(self) -> bytes:
        while not self.buf:
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return b""
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b


def emit(msg) -> None:
    """Send one frame to the parent (stdout, unbuffered)."""
    data = wire.encode_frame(msg)
    while data:
        data = data[os.write(1, data) :]


def _fail(detail: str) -> None:
    emit(wire.Error(detail))
    os._exit(2)


def run_unit(job: wire.Job, unit: wire.Unit, index: int) -> wire.UnitResult:
    """Run ``unit`` (number ``index``) in a fresh worker under ``job``'s settings and judge it."""
    on_worker = None if job.mode == "namespace" else (lambda pid: emit(wire.WorkerStarted(pid)))
    return classify(pump_unit(job, unit, index, on_worker), job.limits, unit.call_limits)


def main() -> None:
    # Not dumpable: a program with the supervisor's uid (user-namespace mode) cannot ptrace or read its memory.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    control = ControlReader()
    try:
        job = wire.decode_frame(control.readline(), expect=wire.Job)
    except wire.ProtocolError as exc:
        _fail(f"bad job: {exc}")
    try:
        if job.mode == "namespace":
            enter_new_root(job.limits.tmpfs_mb, job.uid)
        preimport()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        _fail(f"sandbox set-up failed in {job.mode} mode: {exc!r}")
    units, job = job.units, job._replace(units=())  # a worker needs its own unit only
    emit(wire.Ready(job.mode, os.getpid()))
    for i, unit in enumerate(units):
        emit(run_unit(job, unit, i))
        if i + 1 < len(units) and control.read1() != wire.CONTINUE:
            break
    os._exit(0)
