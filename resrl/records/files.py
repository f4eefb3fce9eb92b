"""Atomic writes whose results carry the user's permissions.

``tempfile.mkstemp``/``mkdtemp`` create 0600 files and 0700 folders whatever the umask, and ``os.replace`` keeps
that mode: a checkpoint, ``final_model/`` or a figure written through them is unreadable by collaborators on a
shared cluster. Everything here ends with the mode a plain ``open``/``mkdir`` would give (0666/0777 minus the
umask), or the previous file's mode when one is replaced.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it; restored at once
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """0666 minus the process umask (what ``open(path, "w")`` creates)."""
    return 0o666 & ~_umask()


def default_dir_mode() -> int:
    """0777 minus the process umask (what ``os.mkdir`` creates)."""
    return 0o777 & ~_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, rename. A reader or a crash
    sees the old file or the whole new one. Mode: the replaced file's, else the umask default. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else default_file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    """``obj`` as JSON (UTF-8, sorted keys, trailing newline), atomically."""
    return atomic_write_text(
        path, json.dumps(obj, indent=indent, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    )


def new_temp_dir(parent: str | os.PathLike, prefix: str) -> Path:
    """A fresh hidden folder under ``parent`` (for a write that is renamed into place when complete), with the
    umask's folder mode instead of ``mkdtemp``'s 0700."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(tmp, default_dir_mode())
    return tmp


def publish_tree(root: str | os.PathLike) -> None:
    """Give every folder and file under ``root`` (included) the umask's default mode, keeping execute bits of
    files that have them. For trees written by libraries through private temporary files (``save_pretrained``,
    ``torch.save`` into a ``mkdtemp`` folder)."""
    root = Path(root)
    dmode, fmode = default_dir_mode(), default_file_mode()
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            os.chmod(path, dmode)
        else:
            os.chmod(path, dmode if path.stat().st_mode & 0o111 else fmode)
