"""One sandbox process, from the evaluator's side: pick the isolation mode, prepare the work directory, start the
supervisor (``python -P -s -S -B child/__main__.py``, under ``unshare`` in namespace mode), converse with it over
``child.protocol``, and afterwards kill every process of the sandbox and remove its files.
"""

from __future__ import annotations

import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluators.code.sandbox.child.protocol import (
    CONTINUE,
    WORKDIR_IN_NS,
    Error,
    Job,
    Limits,
    ProtocolError,
    Ready,
    Unit,
    UnitResult,
    WorkerStarted,
    decode_frame,
    encode_frame,
)
from evaluators.code.sandbox.host import default_hidden, fresh_uid, interpreter_world_readable, unshare_argv
from evaluators.code.sandbox.settings import SandboxConfig, SandboxError

log = logging.getLogger("evaluators.code.sandbox")

CHILD_ENTRY = str(Path(__file__).resolve().parent / "child" / "__main__.py")
_STARTUP_GRACE_S = 15.0  # parent-side backstop on top of the per-unit limits (interpreter start, set-up)
_ERR_KEEP = 20000  # bytes of the supervisor's own stderr kept for error messages
_MODE_LOCK = threading.Lock()
_DETECTED: dict[str, str] = {}


def detect_mode() -> str:
    """``namespace`` if a probe program runs and passes in namespace mode, else ``fallback`` (logged once)."""
    with _MODE_LOCK:
        if "mode" not in _DETECTED:
            mode, why = "fallback", "the `unshare` command (util-linux) was not found"
            if unshare_argv() is not None:
                try:
                    probe = Unit("tests", "x = 41 + 1", tests="assert x == 42")
                    (r,), _ = execute([probe], 20.0, 512, SandboxConfig(mode="namespace"))
                    if r.status == "passed":
                        mode = "namespace"
                    else:
                        why = f"the namespace probe gave {r.status}: {r.detail} {r.stderr_tail[-300:]}"
                except SandboxError as exc:
                    why = str(exc)
            if mode == "fallback":
                log.warning("code sandbox: using the weaker fallback mode because %s", why)
            _DETECTED["mode"] = mode
        return _DETECTED["mode"]


@dataclass
class _Place:
    """Where and as whom the sandbox runs."""

    prefix: list[str]  # the unshare command line, or nothing (fallback)
    uid: int | None  # the workers' fresh uid, or None to keep ours
    workdir: str  # as the sandbox sees it
    tmpdir: str
    hidden: list[str]  # fallback mode: paths the guard hides
    workdir_host: str | None  # fallback mode: the temporary directory to remove afterwards


def _place(mode: str, config: SandboxConfig) -> _Place:
    is_root = os.geteuid() == 0
    if mode == "namespace":
        prefix = unshare_argv()
        if prefix is None:
            raise SandboxError(
                "namespace mode needs the `unshare` command (util-linux); install it or use fallback"
            )
        return _Place(prefix, fresh_uid() if is_root else None, WORKDIR_IN_NS, "/tmp", [], None)
    uid = fresh_uid() if is_root and interpreter_world_readable() else None
    workdir = tempfile.mkdtemp(prefix="resrl-sandbox-")
    os.chmod(workdir, 0o700)
    if uid is not None:
        os.chown(workdir, uid, uid)
    hidden = list(config.hidden_paths) if config.hidden_paths is not None else default_hidden()
    hidden = [h for h in hidden if not (workdir + "/").startswith(h.rstrip("/") + "/")]
    return _Place([], uid, workdir, workdir, hidden, workdir)


def _job(
    mode: str, place: _Place, units: list[Unit], timeout_s: float, memory_mb: int, config: SandboxConfig
) -> Job:
    limits = Limits(
        memory_mb=int(memory_mb),
        cpu_s=float(timeout_s),
        wall_s=float(timeout_s),
        fsize_mb=config.fsize_mb,
        nproc=config.nproc,
        nofile=config.nofile,
        tmpfs_mb=config.tmpfs_mb,
        stdout_cap=config.stdout_cap_bytes,
        record_cap=config.record_cap_bytes,
    )
    return Job(
        mode=mode,
        uid=place.uid,
        workdir=place.workdir,
        tmpdir=place.tmpdir,
        guard=config.python_guard,
        block_processes=config.block_processes,
        hidden=tuple(place.hidden),
        limits=limits,
        units=tuple(units),
    )


def execute(
    units: list[Unit],
    timeout_s: float,
    memory_mb: int,
    config: SandboxConfig,
    on_unit: Callable[[UnitResult], bool] | None = None,
) -> tuple[list[UnitResult], str]:
    """Run ``units`` in one sandbox. ``on_unit(result)`` returns False to stop early. Returns (results, mode)."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if memory_mb < 64:
        raise ValueError(f"memory_mb must be >= 64 (the interpreter itself needs ~30 MB), got {memory_mb}")
    mode = detect_mode() if config.mode == "auto" else config.mode
    place = _place(mode, config)
    job = _job(mode, place, units, timeout_s, memory_mb, config)
    # -P -s -S: no script directory, user site or site-packages on sys.path (like -I, whose -E would also
    # ignore the fixed PYTHONHASHSEED that makes set/dict-of-str orders, and so outputs, reproducible).
    argv = [*place.prefix, sys.executable, "-P", "-s", "-S", "-B", CHILD_ENTRY]
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": place.workdir,
        "TMPDIR": place.tmpdir,
        "PYTHONHASHSEED": "0",
    }
    deadline = time.monotonic() + _STARTUP_GRACE_S + len(units) * (timeout_s + 1.0)
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=place.workdir_host or "/",
        start_new_session=True,
        close_fds=True,
    )
    conversation = _Conversation(proc, job, on_unit)
    try:
        error = conversation.run(deadline)
        if error is not None:
            raise SandboxError(error)
    finally:
        _cleanup(proc, conversation.worker_pids, place.uid, mode, place.workdir_host)
    return conversation.results, mode


class _Conversation:
    """The parent's side of the protocol with one supervisor: send the job, read frames, answer ``CONTINUE``."""

    def __init__(
        self, proc: subprocess.Popen, job: Job, on_unit: Callable[[UnitResult], bool] | None
    ) -> None:
        self.proc, self.n_units, self.on_unit = proc, len(job.units), on_unit
        self.to_send = encode_frame(job)
        self.results: list[UnitResult] = []
        self.worker_pids: list[int] = []
        self.ready = False
        self.buf, self.err = bytearray(), bytearray()
        self.out_fd, self.err_fd, self.in_fd = proc.stdout.fileno(), proc.stderr.fileno(), proc.stdin.fileno()

    def stderr_tail(self, n: int) -> str:
        return repr(bytes(self.err[-n:]))

    def run(self, deadline: float) -> str | None:
        """Converse until every unit's result arrived, ``on_unit`` said stop, or the supervisor ended.
        Returns an error message when the sandbox itself failed, else None."""
        os.set_blocking(self.in_fd, False)
        self.sel = selectors.DefaultSelector()
        for fd, events in (
            (self.out_fd, selectors.EVENT_READ),
            (self.err_fd, selectors.EVENT_READ),
            (self.in_fd, selectors.EVENT_WRITE),
        ):
            self.sel.register(fd, events)
        try:
            open_out = 2
            while open_out:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return f"sandbox exceeded the parent's backstop deadline; stderr: {self.stderr_tail(500)}"
                for key, _ in self.sel.select(min(remaining, 1.0)):
                    if key.fd == self.in_fd:
                        self._write()
                        continue
                    chunk = os.read(key.fd, 1 << 20)
                    if not chunk:
                        self.sel.unregister(key.fd)
                        open_out -= 1
                    elif key.fd == self.err_fd:
                        self.err += chunk
                        del self.err[:-_ERR_KEEP]
                    else:
                        self.buf += chunk
                        done, error = self._frames()
                        if done:
                            return error
        finally:
            self.sel.close()
        return self._ended()

    def _write(self) -> None:
        try:
            self.to_send = self.to_send[os.write(self.in_fd, self.to_send[: 1 << 20]) :]
        except BlockingIOError:
            return
        except BrokenPipeError:
            self.to_send = b""
        if not self.to_send:
            self.sel.unregister(self.in_fd)

    def _frames(self) -> tuple[bool, str | None]:
        """Handle every complete frame in the buffer; (finished, error message)."""
        while (nl := self.buf.find(b"\n")) >= 0:
            line = bytes(self.buf[:nl])
            del self.buf[: nl + 1]
            try:
                msg = decode_frame(line)
            except ProtocolError as exc:
                return (
                    True,
                    f"the sandbox supervisor broke the protocol: {exc}; stderr: {self.stderr_tail(1000)}",
                )
            if type(msg) is Error:
                return True, f"{msg.detail}; stderr: {self.stderr_tail(1000)}"
            if type(msg) is Ready:
                self.ready = True
            elif type(msg) is WorkerStarted:
                self.worker_pids.append(msg.pid)
            elif type(msg) is UnitResult:
                if self._result(msg):
                    return True, None
        return False, None

    def _result(self, result: UnitResult) -> bool:
        """Record a unit's result; True when the conversation is over, else ask for the next unit."""
        self.results.append(result)
        go = self.on_unit(result) if self.on_unit is not None else True
        if len(self.results) == self.n_units or not go:
            return True
        self.to_send += CONTINUE
        if self.in_fd not in self.sel.get_map():
            self.sel.register(self.in_fd, selectors.EVENT_WRITE)
        return False

    def _ended(self) -> str | None:
        """The supervisor closed its output before the conversation was over."""
        rc = self.proc.wait()
        if (
            self.ready
        ):  # set-up had succeeded: the supervisor was killed while a program ran (fallback, no guard)
            detail = f"the sandbox supervisor died while the program ran (exit {rc})"
            result = UnitResult(index=len(self.results), status="runtime_error", detail=detail)
            self.results.append(result)
            if self.on_unit is not None:  # the caller judges it like any other result
                self.on_unit(result)
            return None
        n = len(self.results)
        return f"sandbox ended after {n}/{self.n_units} results (exit {rc}); stderr: {self.stderr_tail(1500)}"


def _cleanup(
    proc: subprocess.Popen, worker_pids: list[int], uid: int | None, mode: str, workdir_host: str | None
):
    """Kill the supervisor's session, any worker session (fallback) and, with a fresh uid, all its processes."""
    for pid in [proc.pid, *worker_pids]:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            stream.close()
        except OSError:
            pass
    if mode == "fallback" and uid is not None:
        _kill_uid(uid)
    if workdir_host is not None:
        _remove_tree(workdir_host)


def _remove_tree(path: str) -> None:
    """Remove the fallback work directory, first restoring permissions the program may have taken away."""
    shutil.rmtree(path, ignore_errors=True)
    if os.path.exists(path):
        for root, dirs, _ in os.walk(path):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o700)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)


def _kill_uid(uid: int) -> None:
    """Kill every process whose real uid is ``uid`` (the sandbox's fresh uid), scanning /proc until none is left."""
    for _ in range(20):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            if int(line.split()[1]) == uid:
                                found = True
                                os.kill(int(entry.name), signal.SIGKILL)
                            break
            except (OSError, ValueError):
                continue
        if not found:
            return
        time.sleep(0.01)
