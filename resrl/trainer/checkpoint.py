"""Atomic, checksummed checkpoints; resume picks the newest one that verifies.

Layout: ``<run>/checkpoints/step_000012/{state.pt, optimizer.pt, meta.json}``. A checkpoint is written into a
temporary directory in the same folder and renamed into place, so a crash leaves either the old set or the new one,
never a half-written ``step_*``. ``meta.json`` holds the SHA-256 of each file; a mismatch or an unreadable file
marks the checkpoint invalid and the previous one is used.

Disk: the optimizer's state (AdamW: two float32 moments, twice the model) lives only in the newest checkpoint
unless ``full=True``: once a new checkpoint is complete, the older kept ones lose ``optimizer.pt`` (their
``meta.json`` says so). Resuming from such a fallback restores weights, step, scheduler and RNG exactly and restarts
the optimizer's moments (the trainer says so). Sizes: ``state.pt`` ~ 4 bytes x parameters (float32),
``optimizer.pt`` ~ 8 bytes x parameters; SmolLM2-135M: 0.54 GB + 1.08 GB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from resrl.records.files import atomic_write_json, new_temp_dir

STATE_FILE = "state.pt"
OPTIMIZER_FILE = "optimizer.pt"
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


def _write_torch(path: Path, obj: Any) -> None:
    with open(path, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())


def save_checkpoint(
    ckpt_root: Path, step: int, state: dict[str, Any], keep: int = 2, full: bool = False
) -> Path:
    """Write ``state`` (torch-serialisable; its ``"optimizer"`` entry goes to its own file) as checkpoint ``step``;
    keep the newest ``keep`` checkpoints, and (unless ``full``) the optimizer state only in the newest."""
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / f"step_{step:06d}"
    tmp = new_temp_dir(ckpt_root, f".tmp_step_{step:06d}_")
    try:
        rest = {k: v for k, v in state.items() if k != "optimizer"}
        _write_torch(tmp / STATE_FILE, rest)
        files = {STATE_FILE: sha256_file(tmp / STATE_FILE)}
        if state.get("optimizer") is not None:
            _write_torch(tmp / OPTIMIZER_FILE, state["optimizer"])
            files[OPTIMIZER_FILE] = sha256_file(tmp / OPTIMIZER_FILE)
        meta = {
            "step": step,
            "sha256": files[STATE_FILE],
            "files": files,
            "bytes": sum((tmp / name).stat().st_size for name in files),
        }
        atomic_write_json(tmp / META_FILE, meta)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(ckpt_root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    kept = list_checkpoints(ckpt_root)
    for old in kept[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    if not full:
        for old in kept[-keep:-1]:
            drop_optimizer_state(old)
    return final


def drop_optimizer_state(path: Path) -> None:
    """Remove ``optimizer.pt`` from checkpoint ``path`` and record it in ``meta.json`` (meta first: a crash in
    between leaves a checkpoint that says it has no optimizer file and has one, which still verifies)."""
    meta_path = path / META_FILE
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError):
        return  # an invalid checkpoint: verification reports it when it matters
    files = dict(meta.get("files") or {})
    if OPTIMIZER_FILE not in files and not (path / OPTIMIZER_FILE).exists():
        return
    files.pop(OPTIMIZER_FILE, None)
    meta["files"] = files
    meta["bytes"] = sum((path / n).stat().st_size for n in files if (path / n).exists())
    atomic_write_json(meta_path, meta)
    (path / OPTIMIZER_FILE).unlink(missing_ok=True)


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
    """None if ``path`` is a complete checkpoint whose checksums match, else the reason it is not."""
    meta_path, state_path = path / META_FILE, path / STATE_FILE
    if not meta_path.is_file() or not state_path.is_file():
        return f"{path}: missing {META_FILE} or {STATE_FILE}"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        return f"{meta_path}: unreadable ({err})"
    files = meta.get("files") or {STATE_FILE: meta.get("sha256")}
    for name, digest in files.items():
        if not (path / name).is_file():
            return f"{path / name}: missing"
        if sha256_file(path / name) != digest:
            return f"{path / name}: checksum mismatch (truncated or corrupted)"
    return None


def load_latest_checkpoint(ckpt_root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest valid checkpoint and its state (``"optimizer"`` None when that checkpoint kept none), skipping
    (and reporting) invalid ones; None if none."""
    for path in reversed(list_checkpoints(ckpt_root)):
        problem = verify_checkpoint(path)
        if problem is None:
            try:
                state = torch.load(path / STATE_FILE, map_location="cpu", weights_only=False)
                opt = path / OPTIMIZER_FILE
                has_opt = OPTIMIZER_FILE in (json.loads((path / META_FILE).read_text()).get("files") or {})
                state["optimizer"] = (
                    torch.load(opt, map_location="cpu", weights_only=False) if has_opt else None
                )
                return path, state
            except Exception as err:  # noqa: BLE001 - any unpickling failure means this checkpoint is unusable
                problem = f"{path}: cannot be loaded ({err})"
        print(f"[resume] skipping invalid checkpoint: {problem}", file=sys.stderr)
    return None
