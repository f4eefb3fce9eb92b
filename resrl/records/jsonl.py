"""JSON-lines records: one reader and one appender for every log and sample file of the project.

:func:`read_jsonl` is strict: a line that is not a JSON object raises ``ValueError`` naming the file and line.
The one exception is crash recovery: with ``allow_cut_last_line``, a last line without its trailing newline that
does not parse (a write cut short by a kill) is dropped. :func:`append_jsonl` writes whole lines and fsyncs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def read_jsonl(path: str | os.PathLike, allow_cut_last_line: bool = False) -> list[dict[str, Any]]:
    """The JSON objects of ``path`` ([] when it does not exist); see the module docstring."""
    path = Path(path)
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    out = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            if allow_cut_last_line and lineno == len(lines) and not text.endswith("\n"):
                break  # the last write was cut short
            raise ValueError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        out.append(obj)
    return out


def append_jsonl(path: str | os.PathLike, records: dict[str, Any] | Iterable[dict[str, Any]]) -> None:
    """Append one record (a dict) or several as whole lines, then flush and fsync (a crash loses at most the
    line being written, which ``read_jsonl(..., allow_cut_last_line=True)`` drops)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [records] if isinstance(records, dict) else list(records)
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        f.flush()
        os.fsync(f.fileno())
