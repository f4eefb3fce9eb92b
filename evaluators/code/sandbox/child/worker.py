"""The worker: one forked process per test unit that confines itself, then hands the program to the harness.

``fork_worker`` forks it wired to four pipes (stdin, stdout, stderr, and the status channel on fd 3; every other
descriptor is closed, so the program never holds the channel to the parent). In the child, ``run_worker``, in order:

1. kernel layer (``_confine``): new session, ``PR_SET_NO_NEW_PRIVS``, the job's fresh uid (or every capability
   dropped), rlimits (memory, CPU, file size, core, open files, processes), default signal dispositions;
2. process image (``_reset_process``): work directory, umask, a fixed minimal environment, fresh std streams;
3. what the program can reach (``_fresh_main``): a new ``__main__``; the sandbox's own modules and the denied
   modules dropped from ``sys.modules`` (unreachable, and a denied import raises the guard's ``import`` event); no
   cached bytecode; a snapshot of builtins and loaded modules that ``run_tests`` restores before the tests;
4. the Python guard (``guard.make_guard``), unless the job switches it off;
5. the harness runner of the unit's kind, which never returns.

No module is imported after the supervisor's start: this module imports everything it uses at its top.
"""

from __future__ import annotations

import builtins
import ctypes
import os
import resource
import signal
import sys
import threading
import types

from .asserts import compile_tests, make_helper_namespace
from .codec import decode_value
from .guard import make_guard
from .harness import HARNESS
from .policy import DENIED_MODULES, PREIMPORT
from .protocol import Job, Unit

MIB = 1024 * 1024
_OWN_PACKAGE = __name__.rpartition(".")[0]  # "child" inside the sandbox


def preimport() -> None:
    """Import ``policy.PREIMPORT`` once per sandbox (in the supervisor, before any worker exists)."""
    for name in PREIMPORT:
        try:
            __import__(name)
        except ImportError:
            pass


def fork_worker(job: Job, unit: Unit, nonce: str) -> tuple[int, int, int, int, int]:
    """Fork a worker for ``unit``; returns ``(pid, stdin_w, stdout_r, stderr_r, status_r)`` (the parent's ends)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    st_r, st_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (in_w, out_r, err_r, st_r):
                os.close(fd)
            for fd, target in ((in_r, 0), (out_w, 1), (err_w, 2), (st_w, 3)):
                os.dup2(fd, target)
            os.closerange(4, 1 << 16)
            run_worker(job, unit, nonce)
        except BaseException as exc:  # noqa: BLE001 - report set-up failures, never fall through
            try:
                os.write(2, f"sandbox worker set-up failed: {exc!r}\n".encode())
            finally:
                os._exit(125)
    for fd in (in_r, out_w, err_w, st_w):
        os.close(fd)
    return pid, in_w, out_r, err_r, st_r


def _drop_capabilities(libc) -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets (no mount, ptrace, chroot, ...)."""
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP; fails harmlessly past the last capability

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3, all zero
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _set_rlimits(limits, per_user: bool) -> None:
    """Memory, CPU, file size, core, open files; processes only for a fresh uid (RLIMIT_NPROC counts per user)."""
    mem = int(limits.memory_mb) * MIB
    cpu = max(1, int(-(-float(limits.cpu_s) // 1)))
    fsize = int(limits.fsize_mb) * MIB
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits.nofile), int(limits.nofile)))
    if per_user:  # binding only for a non-root uid that no other process uses
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limits.nproc), int(limits.nproc)))


def _confine(job: Job) -> None:
    """The kernel layer: session, privileges, rlimits, signal dispositions."""
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: set-uid binaries cannot raise privileges
    uid = job.uid
    if uid is not None:  # from root to a fresh uid: the kernel clears every capability
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    else:  # same uid as the supervisor (user namespace, or fallback without a uid change): drop capabilities
        _drop_capabilities(libc)
    _set_rlimits(job.limits, per_user=uid is not None)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too-large writes fail with EFBIG instead of killing
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def _reset_process(workdir: str, tmpdir: str) -> None:
    """Work directory, umask, a fixed minimal environment, std streams on fds 0-2, argv, recursion limit."""
    os.chdir(workdir)
    os.umask(0o077)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": tmpdir, "LANG": "C.UTF-8"})
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["program.py"]
    sys.setrecursionlimit(10_000)


def _unreachable(name: str) -> bool:
    """Modules the program must not find in ``sys.modules``: the denied ones and the sandbox's own."""
    own = bool(_OWN_PACKAGE) and (name == _OWN_PACKAGE or name.startswith(_OWN_PACKAGE + "."))
    return own or name.partition(".")[0] in DENIED_MODULES or name == "marshal"


def _fresh_main(workdir: str):
    """A new ``__main__`` for the program, ``sys.modules`` cleared of what it must not reach, and ``restore()``,
    which undoes the program's changes to builtins and to already-imported modules."""
    main_mod = types.ModuleType("__main__")
    main_mod.__dict__["__builtins__"] = builtins
    main_mod.__file__ = os.path.join(workdir, "program.py")
    sys.modules["__main__"] = main_mod  # the sandbox's entry script was __main__ until now
    for name in [n for n in sys.modules if _unreachable(n)]:
        del sys.modules[name]
    # Imports after this point compile from source: reading cached bytecode would need marshal.loads, which the
    # guard refuses (crafted bytecode could read the harness's memory).
    sys.pycache_prefix = "/nonexistent-pycache"
    sys.dont_write_bytecode = True
    saved_builtins = dict(builtins.__dict__)
    saved_modules = [
        (m, dict(m.__dict__))
        for m in list(sys.modules.values())
        if isinstance(m, types.ModuleType) and m is not main_mod
    ]

    def restore():
        for mod, saved in saved_modules:
            d = mod.__dict__
            for key in [k for k in d if k not in saved]:
                del d[key]
            d.update(saved)
        b = builtins.__dict__
        for key in [k for k in b if k not in saved_builtins]:
            del b[key]
        b.update(saved_builtins)

    return main_mod.__dict__, restore


def run_worker(job: Job, unit: Unit, nonce: str) -> None:
    """Forked child: confine itself, then run the untrusted program through the harness. Never returns."""
    _confine(job)
    _reset_process(job.workdir, job.tmpdir)
    tests_code = compile_tests(unit.tests) if unit.kind == "tests" else None
    helper_ns = make_helper_namespace()
    inputs = [decode_value(x) for x in unit.inputs]
    prog_ns, restore = _fresh_main(job.workdir)
    main_thread = threading.current_thread()
    harness = HARNESS
    if job.guard:
        readable = sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)})
        sys.addaudithook(make_guard([job.workdir, job.tmpdir], job.hidden, readable, job.block_processes))
    kind, program = unit.kind, unit.program
    del job
    if kind == "stdio":
        harness["stdio"](program, nonce, prog_ns, main_thread)
    elif kind == "tests":
        harness["tests"](program, tests_code, nonce, prog_ns, helper_ns, restore)
    elif kind == "calls":
        harness["calls"](program, unit.entry, inputs, nonce, prog_ns)
    harness["finish"](nonce, "runtime_error", f"unknown unit kind {kind!r}")
