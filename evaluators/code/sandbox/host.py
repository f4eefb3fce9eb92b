"""What this host offers the sandbox: the ``unshare`` command line, whether another uid can run this interpreter,
fresh uids, and the paths the fallback mode's guard hides. Facts only; ``launch`` decides with them."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

FRESH_UID_BASE = 3_000_000  # fresh uids are drawn above this, far above real accounts


def unshare_argv() -> list[str] | None:
    """``unshare`` with new net, PID, mount, IPC and UTS namespaces (and a user namespace when not root), or None."""
    exe = shutil.which("unshare")
    if exe is None:
        return None
    argv = [exe, "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts"]
    if os.geteuid() != 0:
        argv[1:1] = ["--user", "--map-root-user"]
    return argv + ["--"]


def interpreter_world_readable() -> bool:
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


def fresh_uid() -> int:
    """An unused uid for one run (far above real accounts), so per-uid limits and kill(-1) see only the sandbox."""
    return FRESH_UID_BASE + secrets.randbelow(1_000_000_000)


def default_hidden() -> list[str]:
    """Fallback mode's unreadable paths: the project, its data, results and cache, the home directories."""
    from resrl.paths import REPO_ROOT, cache_dir, data_dir, results_dir

    paths = {
        str(REPO_ROOT),
        str(data_dir()),
        str(results_dir()),
        str(cache_dir()),
        str(Path.home()),
        "/root",
        "/home",
        "/work",
    }
    return sorted({os.path.realpath(p) for p in paths})
