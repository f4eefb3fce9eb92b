"""What produced a result: git commit, package versions, platform; written beside every result."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import platform
import subprocess

from resrl.paths import REPO_ROOT

PACKAGES = ("resrl", "torch", "transformers", "hydra-core", "math-verify", "numpy", "pandas", "vllm", "verl")


def git_state() -> dict[str, str | bool | None]:
    def run(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def provenance() -> dict:
    return {
        "git": git_state(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
