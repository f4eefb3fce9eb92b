"""Append-only JSON-lines logs that survive crashes (one fsync'd line per record)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from resrl.records.files import atomic_write_text as _atomic_write_text


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete records; a truncated last line (crash mid-write) is dropped."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def truncate_after_step(path: Path, step: int) -> None:
    """Drop records with ``step > step`` (after resuming from an older checkpoint), atomically."""
    if not path.is_file():
        return
    keep = [r for r in read_jsonl(path) if r.get("step", -1) <= step]
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in keep))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (``resrl.records.files``)."""
    _atomic_write_text(path, text)
