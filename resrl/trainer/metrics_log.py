"""The trainer's append-only logs (``metrics.jsonl``, ``eval.jsonl``): JSON lines through ``resrl.records``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from resrl.records.files import atomic_write_text
from resrl.records.jsonl import append_jsonl
from resrl.records.jsonl import read_jsonl as _read_jsonl

__all__ = ["append_jsonl", "atomic_write_text", "read_jsonl", "truncate_after_step"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete records; a last line cut short by a crash is dropped; a corrupted line elsewhere raises."""
    return _read_jsonl(path, allow_cut_last_line=True)


def truncate_after_step(path: Path, step: int) -> None:
    """Drop records with ``step > step`` (after resuming from an older checkpoint), atomically."""
    if not path.is_file():
        return
    keep = [r for r in read_jsonl(path) if r.get("step", -1) <= step]
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in keep))
