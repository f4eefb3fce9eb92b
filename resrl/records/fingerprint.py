"""Fingerprints: of a resolved configuration (what changes a result) and of a model folder's content.

``config_fingerprint(config, neutral)``: SHA-256 of the canonical JSON of ``config`` without the ``neutral`` keys
(dotted paths of settings that do not change the result, e.g. thread counts or logging). ``differing_keys`` lists
the dotted keys where two configurations differ. ``content_fingerprint(folder)``: SHA-256 over the names and bytes
of a checkpoint folder's weight, config and tokenizer files, so the same path holding another model gets another
fingerprint (and a copy of the same model in another place the same one).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: files of a save_pretrained folder that define the model and its tokenizer (weights, configs, vocabularies)
MODEL_FILE_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".json",
    ".model",
    ".txt",
    ".tiktoken",
    ".jinja",
    ".gguf",
)


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> ``{"a.b.c": value}`` (lists and scalars are leaves)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _is_neutral(key: str, neutral: Iterable[str]) -> bool:
    return any(key == n or key.startswith(n + ".") for n in neutral)


def config_fingerprint(config: Mapping[str, Any], neutral: Iterable[str] = ()) -> str:
    """SHA-256 (hex) of ``config`` without the ``neutral`` dotted keys (a prefix covers its subtree)."""
    neutral = tuple(neutral)
    kept = {k: v for k, v in flatten(config).items() if not _is_neutral(k, neutral)}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def differing_keys(a: Mapping[str, Any], b: Mapping[str, Any], neutral: Iterable[str] = ()) -> list[str]:
    """Dotted keys (outside ``neutral``) whose values differ between two configurations, sorted."""
    neutral = tuple(neutral)
    fa, fb = flatten(a), flatten(b)
    keys = {k for k in fa.keys() | fb.keys() if not _is_neutral(k, neutral)}
    return sorted(k for k in keys if fa.get(k, "<absent>") != fb.get(k, "<absent>"))


_CACHE: dict[tuple, str] = {}


def content_fingerprint(folder: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """SHA-256 (hex) over the relative names and bytes of the model files in ``folder`` (sorted). Cached per
    process by (path, size, mtime) of every file, so a rewritten folder is hashed again."""
    folder = Path(folder)
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix in MODEL_FILE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise FileNotFoundError(f"{folder} holds no model files ({', '.join(MODEL_FILE_SUFFIXES)})")
    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if key in _CACHE:
        return _CACHE[key]
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(folder)).encode() + b"\0")
        with open(p, "rb") as f:
            while block := f.read(chunk):
                h.update(block)
        h.update(b"\0")
    _CACHE[key] = h.hexdigest()
    return _CACHE[key]
