"""The sandbox as the evaluator configures and reads it: ``SandboxConfig`` (isolation settings), ``Verdict`` (the
judgement of one program), ``SandboxError`` (the sandbox itself failed) and the fixed vocabularies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATUSES = ("passed", "failed", "timeout", "memory", "runtime_error", "syntax_error")
MODES = ("auto", "namespace", "fallback")


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

    def grade_record(self, tests_total: int) -> dict[str, Any]:
        """What a benchmark stores for one graded program: status, detail, correctness and test counts."""
        return {
            "status": self.status,
            "detail": self.detail,
            "correct": self.passed,
            "tests_passed": self.tests_passed,
            "tests_total": tests_total,
        }

    def to_dict(self) -> dict:
        d = {
            k: getattr(self, k)
            for k in (
                "status",
                "detail",
                "failed_test",
                "failed_line",
                "tests_passed",
                "tests_total",
                "wall_s",
                "cpu_s",
                "mode",
            )
        }
        return d
