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

Verdicts come from the harness, never from the program's exit code or output: see ``child`` (the part that runs
inside the sandbox) and its ``verdict`` module.

Modules: ``api`` (the functions above), ``settings`` (``SandboxConfig``, ``Verdict``, ``SandboxError``), ``launch``
(mode detection, one sandbox process and its clean-up), ``host`` (facts about this machine), ``child`` (standard
library only: protocol, codec, policy, guard, harness, root fs, worker, pump, verdict, supervisor).
"""

from evaluators.code.sandbox.api import run_calls, run_many, run_stdio, run_stdio_suite, run_tests
from evaluators.code.sandbox.host import interpreter_world_readable as _interpreter_world_readable
from evaluators.code.sandbox.launch import detect_mode
from evaluators.code.sandbox.settings import (
    DEFAULT_CONFIG,
    MODES,
    STATUSES,
    SandboxConfig,
    SandboxError,
    Verdict,
)

__all__ = [
    "DEFAULT_CONFIG",
    "MODES",
    "STATUSES",
    "SandboxConfig",
    "SandboxError",
    "Verdict",
    "_interpreter_world_readable",
    "detect_mode",
    "run_calls",
    "run_many",
    "run_stdio",
    "run_stdio_suite",
    "run_tests",
]
