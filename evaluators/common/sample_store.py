"""A resumable JSON-lines store of evaluation samples, one line per ``(problem_id, sample_index)``.

Crash safety: every :meth:`SampleStore.append` writes its whole batch, then flushes and fsyncs. When the
store is opened, a last line that was cut short by a crash (no trailing newline, or not valid JSON) is
dropped by truncating the file; a malformed line anywhere else is an error (the file was edited or
corrupted, and silently skipping it would hide lost samples). Records whose key is already stored are
skipped, so a rerun never writes a duplicate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from resrl.records.jsonl import read_jsonl as _read_jsonl

DEFAULT_KEY_FIELDS: tuple[str, ...] = ("problem_id", "sample_index")


def read_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (the library's strict reader, ``resrl.records.jsonl``); a bad line
    raises ``ValueError`` naming file and line; a missing file raises ``FileNotFoundError``."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such file")
    yield from _read_jsonl(path)


class SampleStore:
    """Append-only JSON-lines sample store keyed by ``key_fields`` (default ``problem_id, sample_index``).

    >>> store = SampleStore("results/samples/run/math500.jsonl")
    >>> todo = [k for k in wanted if k not in store.done_keys()]
    >>> store.append([{"problem_id": "p1", "sample_index": 0, "text": "..."}])
    """

    def __init__(self, path: str | os.PathLike, key_fields: tuple[str, ...] = DEFAULT_KEY_FIELDS) -> None:
        if not key_fields:
            raise ValueError("SampleStore.key_fields must name at least one field")
        self.path = Path(path)
        self.key_fields = tuple(key_fields)
        self.dropped_partial_line = False
        self._keys: set[tuple] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._load_and_repair()

    # -- reading -----------------------------------------------------------------------------------
    def key_of(self, record: dict[str, Any]) -> tuple:
        """The key tuple of ``record``; raises ``KeyError`` naming the missing field."""
        try:
            return tuple(record[f] for f in self.key_fields)
        except KeyError as e:
            raise KeyError(
                f"sample record lacks key field {e.args[0]!r} (key fields: {list(self.key_fields)})"
            ) from None

    def _load_and_repair(self) -> None:
        data = self.path.read_bytes()
        if not data:
            return
        lines = data.split(b"\n")
        # After the final "\n" split() yields b"": anything else there is an unterminated (cut) line.
        tail = lines.pop()
        keep_len = len(data) - len(tail)
        if tail.strip():
            self.dropped_partial_line = True
        complete = lines
        # A terminated last line that is not valid JSON is also a cut write (fsync of a partial batch).
        for i, raw in enumerate(complete):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
            except ValueError as e:
                if i == len(complete) - 1 and not tail.strip():
                    self.dropped_partial_line = True
                    keep_len -= len(raw) + 1
                    break
                raise ValueError(
                    f"{self.path}:{i + 1}: malformed sample line ({e}); fix or delete the file"
                ) from e
            self._keys.add(self.key_of(obj))
        if self.dropped_partial_line:
            with self.path.open("r+b") as f:
                f.truncate(keep_len)
                f.flush()
                os.fsync(f.fileno())

    def done_keys(self) -> set[tuple]:
        """Keys already stored (a copy)."""
        return set(self._keys)

    def __contains__(self, key: tuple) -> bool:
        return tuple(key) in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def records(self) -> list[dict[str, Any]]:
        """All stored records, in file order."""
        if not self.path.exists():
            return []
        return list(read_jsonl(self.path))

    # -- writing -----------------------------------------------------------------------------------
    def append(self, records: Iterable[dict[str, Any]]) -> int:
        """Append the records whose key is new (also deduplicated within the batch); flush + fsync once.

        Returns the number of lines written.
        """
        lines: list[str] = []
        new_keys: list[tuple] = []
        seen = set(self._keys)
        for rec in records:
            key = self.key_of(rec)
            if key in seen:
                continue
            seen.add(key)
            new_keys.append(key)
            lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        if not lines:
            return 0
        with self.path.open("a", encoding="utf-8") as f:
            f.write("".join(lines))
            f.flush()
            os.fsync(f.fileno())
        self._keys.update(new_keys)
        return len(lines)
