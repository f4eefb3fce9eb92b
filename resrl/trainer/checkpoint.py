"""Atomic, checksummed checkpoints; resume picks the newest one that verifies.

Layout: ``<run>/checkpoints/step_000012/{state.pt, meta.json}``. A checkpoint is written into a temporary
directory in the same folder and renamed into place, so a crash leaves either the old set or the new one,
never a half-written ``step_*``. ``meta.json`` holds the SHA-256 of ``state.pt``; a mismatch or an
unreadable file marks the checkpoint invalid and the previous one is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "state.pt"
META_FILE = "meta.json"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(ckpt_root: Path, step: int, state: dict[str, Any], keep: int = 2) -> Path:
    """Write ``state`` (torch-serialisable) as checkpoint ``step``; keep the newest ``keep`` checkpoints."""
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / f"step_{step:06d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp_step_{step:06d}_", dir=ckpt_root))
    try:
        with open(tmp / STATE_FILE, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        meta = {"step": step, "sha256": sha256_file(tmp / STATE_FILE), "bytes": (tmp / STATE_FILE).stat().st_size}
        with open(tmp / META_FILE, "w") as f:
            json.dump(meta, f)
            f.flush()
            os.fsync(f.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(ckpt_root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(ckpt_root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def remove_partial_writes(folder: Path, prefixes: tuple[str, ...] = (".tmp_step_",)) -> list[Path]:
    """Delete temporary directories left in ``folder`` by a process killed while writing (a checkpoint, or with
    ``prefixes=(".tmp_final_",)`` an exported model); returns what was removed. Call only when no other process
    writes to ``folder`` (at start-up)."""
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefixes)]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
        print(f"[resume] removed an unfinished write: {p}", file=sys.stderr)
    return stale


def list_checkpoints(ckpt_root: Path) -> list[Path]:
    """Checkpoint directories, oldest first (temporary leftovers are ignored)."""
    if not ckpt_root.is_dir():
        return []
    return sorted(p for p in ckpt_root.iterdir() if p.is_dir() and p.name.startswith("step_"))


def verify_checkpoint(path: Path) -> str | None:
    """None if ``path`` is a complete checkpoint whose checksum matches, else the reason it is not."""
    meta_path, state_path = path / META_FILE, path / STATE_FILE
    if not meta_path.is_file() or not state_path.is_file():
        return f"{path}: missing {META_FILE} or {STATE_FILE}"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        return f"{meta_path}: unreadable ({err})"
    if sha256_file(state_path) != meta.get("sha256"):
        return f"{state_path}: checksum mismatch (truncated or corrupted)"
    return None


def load_latest_checkpoint(ckpt_root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest valid checkpoint and its state, skipping (and reporting) invalid ones; None if none."""
    for path in reversed(list_checkpoints(ckpt_root)):
        problem = verify_checkpoint(path)
        if problem is None:
            try:
                return path, torch.load(path / STATE_FILE, map_location="cpu", weights_only=False)
            except Exception as err:  # noqa: BLE001 - any unpickling failure means this checkpoint is unusable
                problem = f"{path / STATE_FILE}: cannot be loaded ({err})"
        print(f"[resume] skipping invalid checkpoint: {problem}", file=sys.stderr)
    return None
