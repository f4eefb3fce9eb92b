"""The I/O pump of one unit: fork its worker, feed its stdin, drain its stdout, stderr and status channel, stop it
at the wall-clock or per-call deadline or when an output cap is exceeded, then kill and reap whatever the unit
started. It judges nothing: ``pump_unit`` returns a ``verdict.Observation`` for ``verdict.classify``.
"""

from __future__ import annotations

import os
import selectors
import signal
import time

from .protocol import RECORD, CallDone, CallStarted, Job, ProtocolError, Record, Unit, parse_status_line
from .verdict import STOP_OUTPUT_LIMIT, STOP_RECORD_LIMIT, STOP_TIMEOUT, Observation
from .worker import fork_worker

STDERR_KEEP = 8192  # bytes of stderr kept (the tail)
_READ = 1 << 16
_TICK_S, _EXIT_TICK_S = 0.02, 0.01  # select() timeouts while the worker runs / after it exited
_EXIT_GRACE_S = (
    0.25  # after the worker exited, how long to wait for its pipes to close (a child may hold them)
)


class _StatusChannel:
    """The worker's status lines (fd 3): the running call and since when, the record carrying the right nonce, and
    how many records were forged or malformed."""

    def __init__(self, nonce: str, cap: int) -> None:
        self.nonce, self.cap = nonce, cap
        self.buf = bytearray()
        self.record: Record | None = None
        self.bad_records = 0
        self.call: int | None = None  # the running call (its own limit applies), or None
        self.call_t = 0.0

    def add(self, chunk: bytes) -> bool:
        """Buffer ``chunk`` and handle complete lines; True when the channel exceeded its cap."""
        self.buf += chunk
        over = len(self.buf) > self.cap
        self.parse()
        return over

    def add_raw(self, chunk: bytes) -> None:
        """Buffer ``chunk`` (up to the cap) without handling it (after the worker was stopped)."""
        if len(self.buf) <= self.cap:
            self.buf += chunk

    def parse(self) -> None:
        while (nl := self.buf.find(b"\n")) >= 0:
            line = bytes(self.buf[:nl])
            del self.buf[: nl + 1]
            self._handle(line)

    def _handle(self, line: bytes) -> None:
        try:
            msg = parse_status_line(line)
        except ProtocolError:
            if line.startswith(RECORD.encode()):
                self.bad_records += 1
            return
        if type(msg) is CallStarted:
            self.call, self.call_t = msg.index, time.monotonic()
        elif type(msg) is CallDone:
            self.call = None  # the call returned: its own limit no longer applies
        elif type(msg) is Record:
            if msg.nonce == self.nonce and self.record is None:
                self.record = msg
            else:
                self.bad_records += 1


class _Pump:
    """The supervisor's side of one worker's pipes, until the worker ended (or was stopped) and its pipes closed."""

    def __init__(self, fds: tuple[int, int, int, int], unit: Unit, job: Job, nonce: str, t0: float) -> None:
        self.in_w, self.out_r, self.err_r, self.st_r = fds
        self.t0, self.wall, self.call_limits = t0, float(job.limits.wall_s), unit.call_limits
        self.stdout_cap = int(job.limits.stdout_cap)
        self.stdin_data = unit.stdin.encode("utf-8")
        self.stdout, self.stderr = bytearray(), bytearray()
        self.status = _StatusChannel(nonce, int(job.limits.record_cap))
        self.stop: str | None = None
        self.timed_call: int | None = None
        self.open_readers = 3
        self.sel = selectors.DefaultSelector()
        os.set_blocking(self.in_w, False)
        if self.stdin_data:
            self.sel.register(self.in_w, selectors.EVENT_WRITE)
        else:
            os.close(self.in_w)
        for fd in (self.out_r, self.err_r, self.st_r):
            self.sel.register(fd, selectors.EVENT_READ)

    def deadline(self) -> tuple[float, int | None]:
        """The next deadline and, when it is a call's own limit, that call's index."""
        deadline, timed = self.t0 + self.wall, None
        ch = self.status
        if ch.call is not None and ch.call < len(self.call_limits) and ch.record is None:
            call_deadline = ch.call_t + float(self.call_limits[ch.call])
            if call_deadline < deadline:
                deadline, timed = call_deadline, ch.call
        return deadline, timed

    def run(self, pid: int) -> tuple[int, object] | None:
        """Pump until the worker exited and its pipes closed, a deadline passed or a cap was exceeded.
        Returns the worker's ``(wait status, rusage)`` if it exited, else None (it is still running)."""
        exit_info, exit_t = None, 0.0
        while True:
            now = time.monotonic()
            deadline, timed = self.deadline()
            if exit_info is None and now >= deadline:
                self.stop, self.timed_call = STOP_TIMEOUT, timed
                return None
            if exit_info is not None and (self.open_readers == 0 or now - exit_t > _EXIT_GRACE_S):
                return exit_info
            tick = _TICK_S if exit_info is None else _EXIT_TICK_S
            for key, _ in self.sel.select(min(max(deadline - now, 0.0), tick)):
                if key.fd == self.in_w:
                    self._feed_stdin()
                else:
                    self._read(key.fd)
            if self.stop is not None:
                return exit_info
            if exit_info is None:
                wpid, status, rusage = os.wait4(pid, os.WNOHANG)
                if wpid == pid:
                    exit_info, exit_t = (status, rusage), time.monotonic()

    def _feed_stdin(self) -> None:
        try:
            n = os.write(self.in_w, self.stdin_data[:65536])
            self.stdin_data = self.stdin_data[n:]
        except BlockingIOError:
            return
        except OSError:  # the program closed its stdin
            self.stdin_data = b""
        if not self.stdin_data:
            self.sel.unregister(self.in_w)
            os.close(self.in_w)

    def _read(self, fd: int) -> None:
        try:
            chunk = os.read(fd, _READ)
        except OSError:
            chunk = b""
        if not chunk:
            self.sel.unregister(fd)
            os.close(fd)
            self.open_readers -= 1
        elif fd == self.out_r:
            self.stdout += chunk
            if len(self.stdout) > self.stdout_cap:
                self.stop = STOP_OUTPUT_LIMIT
        elif fd == self.err_r:
            self.stderr += chunk
            if len(self.stderr) > 4 * STDERR_KEEP:
                del self.stderr[: len(self.stderr) - STDERR_KEEP]
        elif self.status.add(chunk):
            self.stop = STOP_RECORD_LIMIT

    def drain_and_close(self) -> None:
        """After every process of the unit is dead: read what the pipes still hold, close them all."""
        for key in list(self.sel.get_map().values()):
            fd = key.fd
            if fd != self.in_w:
                try:
                    os.set_blocking(fd, False)
                    while chunk := os.read(fd, _READ):
                        if fd == self.out_r and len(self.stdout) <= self.stdout_cap:
                            self.stdout += chunk
                        elif fd == self.st_r:
                            self.status.add_raw(chunk)
                        elif fd == self.err_r:
                            self.stderr += chunk
                except (
                    OSError
                ):  # BlockingIOError: nothing more for now (in fallback mode a stray writer may live on)
                    pass
            try:
                os.close(fd)
            except OSError:
                pass
        self.sel.close()
        if self.stop is None:
            self.status.parse()


def _kill_worker(pid: int) -> tuple[int, object]:
    """SIGKILL the worker's process group (the worker alone if the group is gone) and reap it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    _, status, rusage = os.wait4(pid, 0)
    return status, rusage


def kill_leftovers(job: Job, worker_pid: int) -> None:
    """Kill the worker's process group and anything else the program started, then reap what has ended."""
    try:
        os.killpg(worker_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if job.mode == "namespace" and os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)  # from PID 1: every process of this PID namespace except itself
        except ProcessLookupError:
            pass
    elif job.uid is not None and job.uid >= 100_000 and job.uid != os.getuid():
        # A helper with the sandbox's fresh uid: kill(-1) then reaches exactly that uid's processes.
        pid = os.fork()
        if pid == 0:
            try:
                os.setresuid(job.uid, job.uid, job.uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    while True:  # reap whatever has ended
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


def pump_unit(job: Job, unit: Unit, index: int, on_worker=None) -> Observation:
    """Run ``unit`` in a fresh worker and observe it; ``on_worker(pid)`` is called right after the fork."""
    nonce = os.urandom(16).hex()
    t0 = time.monotonic()
    pid, *fds = fork_worker(job, unit, nonce)
    if on_worker is not None:
        on_worker(pid)
    pump = _Pump(tuple(fds), unit, job, nonce, t0)
    exit_info = pump.run(pid)
    wall_s = time.monotonic() - t0
    status, rusage = exit_info if exit_info is not None else _kill_worker(pid)
    kill_leftovers(job, pid)
    pump.drain_and_close()
    signaled = os.WIFSIGNALED(status)
    return Observation(
        index=index,
        kind=unit.kind,
        wall_s=wall_s,
        cpu_s=rusage.ru_utime + rusage.ru_stime,
        exit_signal=os.WTERMSIG(status) if signaled else None,
        exit_code=None if signaled else os.WEXITSTATUS(status),
        stop=pump.stop,
        timed_call=pump.timed_call,
        record=pump.status.record,
        bad_records=pump.status.bad_records,
        stdout=bytes(pump.stdout),
        stderr_tail=bytes(pump.stderr[-STDERR_KEEP:]),
    )
