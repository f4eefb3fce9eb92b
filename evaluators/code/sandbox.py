"""Run untrusted (model-written) Python in a confined subprocess and judge it from outside.

Public API::

    run_tests(program, tests, timeout_s=10.0, memory_mb=1024) -> Verdict
    run_stdio(program, stdin, expected_stdout, timeout_s=10.0, memory_mb=1024) -> Verdict
    run_stdio_suite(program, cases, ...) -> Verdict      # several stdin/stdout tests, stops at the first failure
    run_calls(program, entry_point, inputs, ...) -> Verdict  # call-and-compare: returns the outputs, parent compares
    run_many(jobs, workers) -> list                       # bounded parallel pool, results in input order

``Verdict.status`` is one of ``passed, failed, timeout, memory, runtime_error, syntax_error``.

Two isolation modes, chosen automatically (``SandboxConfig.mode="auto"``):

``namespace`` (used when ``unshare`` from util-linux can create namespaces: as root, or as a user where
    unprivileged user namespaces are enabled). The program runs in new network, PID, mount, IPC and UTS
    namespaces: no network interface but a down loopback, so no connection to any host port; it sees only its
    own processes, so it cannot signal the evaluator; its root file system is a fresh tmpfs holding read-only
    binds of /usr, /lib*, /bin, /etc and the interpreter's prefix, a private /tmp and the work directory
    /sandbox; nothing else of the host is visible (not the project, its data or the expected answers), and the
    whole tree vanishes with the namespace. As root the program also runs under a fresh unused uid, so
    RLIMIT_NPROC bounds its processes and it has no capabilities. When the PID namespace's init exits, the
    kernel kills every process left in it.
``fallback`` (no usable namespaces). A fresh temporary directory, rlimits, a new session whose process group
    is killed afterwards, a fresh uid when running as root *and* the interpreter is readable by other users
    (otherwise the program keeps the evaluator's uid), and the Python guard below. Weaker: the file system is
    protected only by the guard and by permissions, and processes are bounded by the guard (no fork/exec)
    rather than by the kernel when the uid cannot be changed.

In both modes the worker sets RLIMIT_AS (memory), RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE=0 and
PR_SET_NO_NEW_PRIVS; the supervisor enforces the wall clock; the environment is replaced by a fixed minimal one;
captured output is capped. The *Python guard* (an audit hook installed before the program's first line) refuses
socket creation, fork/exec/kill, ctypes and other raw-memory modules, frame and garbage-collector introspection,
tracing hooks, replacing ``__code__``, writes outside the work directory and reads of the project's files; it
is a second layer, not the boundary (CPython's audit hooks are not a security mechanism on their own).

Verdicts come from the harness, never from the program's exit code or output: see ``_sandbox_child``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from evaluators.code import _sandbox_child as child
from evaluators.code.compare import stdout_matches

log = logging.getLogger(__name__)

STATUSES = ("passed", "failed", "timeout", "memory", "runtime_error", "syntax_error")
MODES = ("auto", "namespace", "fallback")
_CHILD_SCRIPT = str(Path(child.__file__).resolve())
_STARTUP_GRACE_S = 15.0  # parent-side backstop on top of the per-unit limits (interpreter start, set-up)


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program): bad configuration or a set-up error."""


@dataclass(frozen=True)
class SandboxConfig:
    """Isolation settings shared by every run. Defaults suit benchmark grading on this project's machines."""

    mode: str = "auto"  # "auto" | "namespace" | "fallback"
    python_guard: bool = (
        True  # install the audit-hook layer (tests switch it off to check the OS layer alone)
    )
    block_processes: bool = (
        True  # the guard refuses fork/exec/kill (tests switch it off to check RLIMIT_NPROC)
    )
    nproc: int = 64  # RLIMIT_NPROC for the sandbox's fresh uid (processes + threads)
    fsize_mb: int = 64  # RLIMIT_FSIZE: largest file the program may write
    nofile: int = 256  # RLIMIT_NOFILE
    tmpfs_mb: int = 256  # size of the namespace mode's private root (work directory + /tmp)
    stdout_cap_bytes: int = 32 * 1024 * 1024  # captured stdout per test; more is a failure
    record_cap_bytes: int = 128 * 1024 * 1024  # harness record per run (call outputs)
    hidden_paths: tuple[str, ...] | None = (
        None  # fallback mode: unreadable paths (None = project, data, home)
    )

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"SandboxConfig.mode must be one of {MODES}, got {self.mode!r}")
        for name in ("nproc", "fsize_mb", "nofile", "tmpfs_mb", "stdout_cap_bytes", "record_cap_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"SandboxConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.nofile < 16:
            raise ValueError(
                f"SandboxConfig.nofile must be >= 16 (the interpreter needs a few), got {self.nofile}"
            )


DEFAULT_CONFIG = SandboxConfig()


@dataclass
class Verdict:
    """The harness's judgement of one program.

    ``failed_test`` is the 0-based index of the first failing test of a suite (stdin/stdout case or call);
    ``failed_line`` is the 1-based line of the failing ``assert`` in ``run_tests``'s test code.
    ``outputs`` holds the decoded return values of ``run_calls`` (plain data; anything else is ``Unsupported``).
    """

    status: str
    detail: str = ""
    failed_test: int | None = None
    failed_line: int | None = None
    tests_passed: int = 0
    tests_total: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    stderr_tail: str = ""
    mode: str = ""
    outputs: list[Any] | None = None
    call_times: list[float] | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("status", "detail", "failed_test", "failed_line", "tests_passed",
                                           "tests_total", "wall_s", "cpu_s", "mode")}  # fmt: skip
        return d


# ------------------------------------------------------------------------------------------------------------
# Mode detection
# ------------------------------------------------------------------------------------------------------------
_MODE_LOCK = threading.Lock()
_DETECTED: dict[str, str] = {}


def _unshare_argv() -> list[str] | None:
    exe = shutil.which("unshare")
    if exe is None:
        return None
    argv = [exe, "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts"]
    if os.geteuid() != 0:
        argv[1:1] = ["--user", "--map-root-user"]
    return argv + ["--"]


def detect_mode() -> str:
    """``namespace`` if a probe program runs and passes in namespace mode, else ``fallback`` (logged once)."""
    with _MODE_LOCK:
        if "mode" not in _DETECTED:
            mode, why = "fallback", "the `unshare` command (util-linux) was not found"
            if _unshare_argv() is not None:
                try:
                    v = run_tests("x = 41 + 1", "assert x == 42", timeout_s=20.0, memory_mb=512,
                                  config=SandboxConfig(mode="namespace"))  # fmt: skip
                    if v.passed:
                        mode = "namespace"
                    else:
                        why = f"the namespace probe gave {v.status}: {v.detail} {v.stderr_tail[-300:]}"
                except SandboxError as exc:
                    why = str(exc)
            if mode == "fallback":
                log.warning("code sandbox: using the weaker fallback mode because %s", why)
            _DETECTED["mode"] = mode
        return _DETECTED["mode"]


def _interpreter_world_readable() -> bool:
    """Can an unrelated uid start this interpreter and read its standard library?"""
    paths = [Path(os.path.realpath(sys.executable)), Path(os.path.realpath(sys.base_prefix)) / "lib"]
    for p in paths:
        for q in [p, *p.parents]:
            try:
                mode = q.stat().st_mode
            except OSError:
                return False
            need = 0o005 if q.is_dir() or q == p else 0o004
            if mode & need != need:
                return False
    return True


def _fresh_uid() -> int:
    """An unused uid for one run (far above real accounts), so per-uid limits and kill(-1) see only the sandbox."""
    return 3_000_000 + secrets.randbelow(1_000_000_000)


def _default_hidden() -> list[str]:
    from resrl.paths import REPO_ROOT, cache_dir, data_dir, results_dir

    paths = {str(REPO_ROOT), str(data_dir()), str(results_dir()), str(cache_dir()), str(Path.home()), "/root",
             "/home", "/work"}  # fmt: skip
    return sorted({os.path.realpath(p) for p in paths})


# ------------------------------------------------------------------------------------------------------------
# One sandbox process (supervisor + workers)
# ------------------------------------------------------------------------------------------------------------
def _execute(
    units: list[dict],
    timeout_s: float,
    memory_mb: int,
    config: SandboxConfig,
    on_unit: Callable[[dict], bool] | None = None,
) -> tuple[list[dict], str]:
    """Run ``units`` in one sandbox. ``on_unit(result)`` returns False to stop early. Returns (results, mode)."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if memory_mb < 64:
        raise ValueError(f"memory_mb must be >= 64 (the interpreter itself needs ~30 MB), got {memory_mb}")
    mode = detect_mode() if config.mode == "auto" else config.mode
    is_root = os.geteuid() == 0
    workdir_host = None
    if mode == "namespace":
        prefix = _unshare_argv()
        if prefix is None:
            raise SandboxError(
                "namespace mode needs the `unshare` command (util-linux); install it or use fallback"
            )
        uid = _fresh_uid() if is_root else None
        workdir, tmpdir, hidden = child.WORKDIR_IN_NS, "/tmp", []
    else:
        prefix = []
        uid = _fresh_uid() if is_root and _interpreter_world_readable() else None
        workdir_host = tempfile.mkdtemp(prefix="resrl-sandbox-")
        os.chmod(workdir_host, 0o700)
        if uid is not None:
            os.chown(workdir_host, uid, uid)
        workdir, tmpdir = workdir_host, workdir_host
        hidden = list(config.hidden_paths) if config.hidden_paths is not None else _default_hidden()
        hidden = [h for h in hidden if not (workdir + "/").startswith(h.rstrip("/") + "/")]
    job = {
        "mode": mode,
        "uid": uid,
        "workdir": workdir,
        "tmpdir": tmpdir,
        "guard": config.python_guard,
        "block_processes": config.block_processes,
        "hidden": hidden,
        "limits": {
            "memory_mb": memory_mb,
            "cpu_s": timeout_s,
            "wall_s": timeout_s,
            "fsize_mb": config.fsize_mb,
            "nproc": config.nproc,
            "nofile": config.nofile,
            "tmpfs_mb": config.tmpfs_mb,
            "stdout_cap": config.stdout_cap_bytes,
            "record_cap": config.record_cap_bytes,
        },
        "units": units,
    }
    # -P -s -S: no script directory, user site or site-packages on sys.path (like -I, whose -E would also
    # ignore the fixed PYTHONHASHSEED that makes set/dict-of-str orders, and so outputs, reproducible).
    argv = [*prefix, sys.executable, "-P", "-s", "-S", "-B", _CHILD_SCRIPT]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": workdir, "TMPDIR": tmpdir,
           "PYTHONHASHSEED": "0"}  # fmt: skip
    deadline = time.monotonic() + _STARTUP_GRACE_S + len(units) * (timeout_s + 1.0)
    results: list[dict] = []
    worker_pids: list[int] = []
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir_host or "/",
        start_new_session=True,
        close_fds=True,
    )
    try:
        results, error = _converse(proc, job, deadline, on_unit, worker_pids)
        if error is not None:
            raise SandboxError(error)
    finally:
        _cleanup(proc, worker_pids, uid, mode, workdir_host)
    return results, mode


def _converse(proc, job, deadline, on_unit, worker_pids) -> tuple[list[dict], str | None]:
    """Send the job, collect unit results, answer continue/stop. Returns (results, error message or None)."""
    n_units = len(job["units"])
    to_send = (json.dumps(job, separators=(",", ":")) + "\n").encode()
    out_fd, err_fd, in_fd = proc.stdout.fileno(), proc.stderr.fileno(), proc.stdin.fileno()
    os.set_blocking(in_fd, False)
    sel = selectors.DefaultSelector()
    sel.register(out_fd, selectors.EVENT_READ)
    sel.register(err_fd, selectors.EVENT_READ)
    sel.register(in_fd, selectors.EVENT_WRITE)
    buf, err = bytearray(), bytearray()
    results: list[dict] = []
    open_out, ready = 2, False
    try:
        while open_out:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return (
                    results,
                    f"sandbox exceeded the parent's backstop deadline; stderr: {bytes(err[-500:])!r}",
                )
            for key, _ in sel.select(min(remaining, 1.0)):
                if key.fd == in_fd:
                    try:
                        to_send = to_send[os.write(in_fd, to_send[: 1 << 20]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        to_send = b""
                    if not to_send:
                        sel.unregister(in_fd)
                    continue
                chunk = os.read(key.fd, 1 << 20)
                if not chunk:
                    sel.unregister(key.fd)
                    open_out -= 1
                    continue
                if key.fd == err_fd:
                    err += chunk
                    del err[:-20000]
                    continue
                buf += chunk
                while (nl := buf.find(b"\n")) >= 0:
                    msg = json.loads(bytes(buf[:nl]))
                    del buf[: nl + 1]
                    kind = msg.get("type")
                    if kind == "error":
                        return results, f"{msg['detail']}; stderr: {bytes(err[-1000:])!r}"
                    if kind == "ready":
                        ready = True
                    elif kind == "worker":
                        worker_pids.append(int(msg["pid"]))
                    elif kind == "unit":
                        results.append(msg)
                        go = on_unit(msg) if on_unit is not None else True
                        if len(results) == n_units or not go:
                            return results, None
                        to_send += b"c"
                        if in_fd not in sel.get_map():
                            sel.register(in_fd, selectors.EVENT_WRITE)
    finally:
        sel.close()
    rc = proc.wait()
    if ready:  # set-up had succeeded: the supervisor was killed while a program ran (fallback mode, no guard)
        results.append({"type": "unit", "index": len(results), "status": "runtime_error",
                        "detail": f"the sandbox supervisor died while the program ran (exit {rc})"})  # fmt: skip
        return results, None
    return (
        results,
        f"sandbox ended after {len(results)}/{n_units} results (exit {rc}); stderr: {bytes(err[-1500:])!r}",
    )


def _cleanup(proc, worker_pids, uid, mode, workdir_host) -> None:
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
        shutil.rmtree(workdir_host, ignore_errors=True)
        if os.path.exists(workdir_host):  # a program made parts unreadable to us: restore permissions, retry
            for root, dirs, _ in os.walk(workdir_host):
                for d in dirs:
                    try:
                        os.chmod(os.path.join(root, d), 0o700)
                    except OSError:
                        pass
            shutil.rmtree(workdir_host, ignore_errors=True)


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


def _verdict_from(result: dict, mode: str) -> Verdict:
    status = result.get("status", "runtime_error")
    if status not in STATUSES and status != "completed":
        status = "runtime_error"
    return Verdict(
        status=status,
        detail=str(result.get("detail", "")),
        wall_s=float(result.get("wall_s", 0.0)),
        cpu_s=float(result.get("cpu_s", 0.0)),
        stderr_tail=str(result.get("stderr_tail", "")),
        mode=mode,
    )


# ------------------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------------------
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
    child.compile_tests(tests)  # validate in the parent: raises SyntaxError naming the line
    results, mode = _execute([{"kind": "tests", "program": program, "tests": tests}], timeout_s, memory_mb,
                             config or DEFAULT_CONFIG)  # fmt: skip
    r = results[0]
    v = _verdict_from(r, mode)
    if v.status == "completed":
        v.status = "runtime_error"
    v.failed_line = r.get("line") if v.status != "passed" and r.get("line") else None
    v.tests_total = v.tests_passed = int(r.get("asserts", 0))
    if v.status == "failed" and v.failed_line is not None:
        lines = tests.splitlines()
        src = lines[v.failed_line - 1].strip() if 0 < v.failed_line <= len(lines) else ""
        v.detail = f"line {v.failed_line}: {src}" + (f" ({v.detail})" if v.detail else "")
        v.tests_passed = max(0, v.tests_total - 1)
    return v


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
    units = [{"kind": "stdio", "program": program, "stdin": stdin} for stdin, _ in cases]
    first_failure: dict = {}
    cap = (config or DEFAULT_CONFIG).stdout_cap_bytes

    def judge(r: dict) -> bool:
        i = r["index"]
        ok = r.get("status") == "completed"
        if ok:
            out = base64.b64decode(r.get("stdout_b64", ""))
            if len(out) > cap:
                r["status"], r["detail"] = "failed", f"output limit of {cap} bytes exceeded"
                ok = False
            elif not stdout_matches(
                out.decode("utf-8", "replace"), cases[i][1], float_tol=float_tol, mode=compare
            ):
                got = out[:120].decode("utf-8", "replace")
                r["status"], r["detail"] = "failed", f"wrong answer on test {i}; output starts {got!r}"
                ok = False
        if ok:
            r["status"] = "passed"
        elif not first_failure:
            first_failure.update(r)
        return ok or not stop_on_failure

    results, mode = _execute(units, timeout_s, memory_mb, config or DEFAULT_CONFIG, on_unit=judge)
    passed = sum(1 for r in results if r.get("status") == "passed")
    wall = sum(float(r.get("wall_s", 0.0)) for r in results)
    cpu = sum(float(r.get("cpu_s", 0.0)) for r in results)
    if first_failure:
        v = _verdict_from(first_failure, mode)
        v.failed_test = int(first_failure["index"])
    else:
        v = Verdict(status="passed", mode=mode)
    v.tests_passed, v.tests_total, v.wall_s, v.cpu_s = passed, len(cases), wall, cpu
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
    return run_stdio_suite(program, [(stdin, expected_stdout)], timeout_s, memory_mb, float_tol, compare,
                           config=config)  # fmt: skip


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
    encoded = [json.loads(child.encode_value(tuple(args))) for args in inputs]
    for i, e in enumerate(encoded):
        if e == {"$unsupported": ""}:
            raise ValueError(f"input {i} is not plain data (lists, tuples, dicts, sets, str, numbers, None)")
    unit = {"kind": "calls", "program": program, "entry": entry_point, "inputs": encoded,
            "call_limits": list(call_timeouts) if call_timeouts is not None else []}  # fmt: skip
    results, mode = _execute([unit], timeout_s, memory_mb, config or DEFAULT_CONFIG)
    r = results[0]
    v = _verdict_from(r, mode)
    outputs = [child.decode_value(o) for o in r.get("outputs", [])]
    v.outputs = outputs
    v.call_times = [float(t) for t in r.get("times", [])]
    v.tests_total = len(inputs)
    v.tests_passed = len(outputs)
    if v.status == "completed" and len(outputs) == len(inputs):
        v.status = "passed"
    elif v.status == "completed":
        v.status, v.detail = "runtime_error", f"only {len(outputs)}/{len(inputs)} outputs were recorded"
    if v.status != "passed":  # the failing call, when one failed (None for program-level errors)
        v.failed_test = r.get("call_index")
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


__all__ = [
    "DEFAULT_CONFIG",
    "STATUSES",
    "SandboxConfig",
    "SandboxError",
    "Verdict",
    "detect_mode",
    "run_calls",
    "run_many",
    "run_stdio",
    "run_stdio_suite",
    "run_tests",
]
