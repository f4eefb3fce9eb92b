"""What produced a result: resolved config, git commit, package versions, seed, host and date."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as _md
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from resrl.records.files import atomic_write_json

DEFAULT_PACKAGES: tuple[str, ...] = (
    "resrl",
    "torch",
    "transformers",
    "math-verify",
    "latex2sympy2_extended",
    "sympy",
    "numpy",
    "pandas",
    "hydra-core",
    "omegaconf",
    "vllm",
    "verl",
    "evalplus",
    "lm_eval",
)


def git_commit(repo: str | os.PathLike | None = None) -> str | None:
    """HEAD commit of the repository holding ``repo`` (default: this project), with ``-dirty`` if modified."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def package_versions(packages: tuple[str, ...] = DEFAULT_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (``None`` when not installed)."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = _md.version(name)
        except _md.PackageNotFoundError:
            out[name] = None
    return out


def run_provenance(
    config: dict[str, Any] | None = None,
    seed: int | None = None,
    packages: tuple[str, ...] = DEFAULT_PACKAGES,
) -> dict[str, Any]:
    """A JSON-ready dict: config, seed, git commit, package versions, python, host, UTC time."""
    return {
        "config": config or {},
        "seed": seed,
        "git_commit": git_commit(),
        "packages": package_versions(packages),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "argv": list(sys.argv),
    }


def write_provenance(
    path: str | os.PathLike, config: dict[str, Any] | None = None, seed: int | None = None, **extra: Any
) -> Path:
    """Write :func:`run_provenance` (plus ``extra`` keys) atomically as JSON at ``path``."""
    info = run_provenance(config, seed)
    info.update(extra)
    return atomic_write_json(path, info)
