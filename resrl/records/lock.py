"""One writer per run folder or results file: an exclusive ``flock`` on a lock file that holds the writer's pid.

The lock belongs to the open file description, so the kernel releases it when the process dies (no stale locks
after a SIGKILL); the pid in the file only names the holder in the error a second writer gets.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FolderLocked(RuntimeError):
    """Another live process holds the lock; the message names it."""


@contextmanager
def exclusive_lock(lock_path: str | os.PathLike, what: str | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``lock_path`` (created if missing) for the block, or raise :class:`FolderLocked`
    at once naming the holder's pid and host. ``what`` names the protected thing in the message."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown pid"
            raise FolderLocked(
                f"{what or lock_path.parent} is in use by another process ({holder}); wait for it "
                f"to finish or stop it (lock file {lock_path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        try:
            yield lock_path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
