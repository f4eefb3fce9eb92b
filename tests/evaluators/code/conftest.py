"""Fixtures for the code-evaluation tests: the sandbox modes available on this machine."""

from __future__ import annotations

import os
import shutil

import pytest

from evaluators.code.sandbox import SandboxConfig, _interpreter_world_readable, detect_mode


def _modes() -> list[str]:
    modes = ["fallback"]
    if shutil.which("unshare") and detect_mode() == "namespace":
        modes.insert(0, "namespace")
    return modes


MODES = _modes()


@pytest.fixture(params=MODES)
def mode(request) -> str:
    """Every isolation mode this machine supports (namespace when unshare works; fallback always)."""
    return request.param


@pytest.fixture
def cfg(mode) -> SandboxConfig:
    return SandboxConfig(mode=mode)


@pytest.fixture
def kernel_process_bound(mode) -> bool:
    """Whether the kernel bounds the program's processes in ``mode``: always in namespace mode (fresh uid with
    RLIMIT_NPROC, or a PID namespace torn down afterwards); in fallback only when it can switch to a fresh uid."""
    return mode == "namespace" or (os.geteuid() == 0 and _interpreter_world_readable())
