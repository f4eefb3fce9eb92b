"""Stored samples are reused only when the same model and the same sampling settings drew them.

Every evaluator resumes from its sample files: a rerun draws only the (problem, sample) pairs not stored yet. That
is right only if the stored ones came from the same model under the same settings, so each sample file (or run
folder) has a record beside it (``sampling.json``, ``<benchmark>_sampling.json``, ...) with

- ``model``: :func:`model_identity`, what the samples were drawn from: the model spec's fields that change the
  model or its prompts, and its content fingerprint (``sha256:`` of a checkpoint folder's weight, config and
  tokenizer files, or of the package holding a GGUF file; ``hf-commit:`` the cached Hub snapshot; the spec alone
  for a seeded random model), so another model saved at the same path is another model;
- the evaluator's sampling settings (temperature, top-p, token limits, seed, prompt, ...).

:func:`guard_stored_samples` compares the record with the current run before anything is sampled: a difference
stops the run with one line naming what changed and how to proceed (another ``run_name=``, or ``overwrite=true``,
which deletes the stored samples and draws them again), never a silent reuse. A larger ``n`` or more problems only
extends the files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from resrl.records import atomic_write_json, config_fingerprint, content_fingerprint, differing_keys

log = logging.getLogger(__name__)

#: Prefix of a model content that cannot be known without downloading (a Hub model not in the local cache) or
#: loading (a GGUF package that is not installed): compatible with any content of the same spec.
UNRESOLVED = "unresolved"

#: ModelSpec fields that label the model but do not change it or its prompts.
_LABEL_FIELDS = ("name", "pip_hint")


class SamplesMismatch(ValueError):
    """Stored samples were drawn by another model or under other settings (a user error: exit status 2)."""


def _hub_snapshot(hub_id: str, revision: str | None) -> str | None:
    """The commit of the cached Hub snapshot of ``hub_id`` at ``revision`` (None when not cached)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(hub_id, "config.json", revision=revision)
    except Exception:  # a malformed id or cache: treated as not cached
        return None
    if isinstance(found, str) and Path(found).is_file() and Path(found).parent.parent.name == "snapshots":
        return Path(found).parent.name
    return None


def model_identity(spec: Any) -> dict[str, Any]:
    """What samples drawn from ``spec`` (a ``resrl.models.ModelSpec``) depend on: its fields (without the labels;
    without the path of a local folder, so a copy elsewhere is the same model) and ``content``."""
    fields = dataclasses.asdict(spec)
    for k in _LABEL_FIELDS:
        fields.pop(k, None)
    content: str
    if spec.source == "random":
        content = "random-init"  # the spec (size, seed) defines the weights
    elif spec.source == "gguf_package":
        from resrl.models.gguf import find_gguf

        try:
            content = "sha256:" + content_fingerprint(find_gguf(spec.gguf_package, spec.gguf_file).parent)
        except (ImportError, FileNotFoundError):
            content = f"{UNRESOLVED}:gguf package {spec.gguf_package} not installed"
    elif spec.hub_id and Path(str(spec.hub_id)).expanduser().is_dir():
        content = "sha256:" + content_fingerprint(Path(str(spec.hub_id)).expanduser())
        fields.pop("hub_id", None)
        fields.pop("revision", None)
    else:
        commit = _hub_snapshot(str(spec.hub_id), spec.revision)
        content = (
            f"hf-commit:{commit}"
            if commit
            else f"{UNRESOLVED}:{spec.hub_id}@{spec.revision or 'main'} not cached"
        )
    fields["content"] = content
    return fields


def model_fingerprint(identity: Mapping[str, Any]) -> str:
    """SHA-256 of a :func:`model_identity`."""
    return config_fingerprint(identity)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def sampling_record(model: Mapping[str, Any], **settings: Any) -> dict[str, Any]:
    """The record of a sample file: the model's identity and fingerprint and the sampling settings (JSON values)."""
    return {
        "model": _jsonable(dict(model)),
        "model_fingerprint": model_fingerprint(model),
        **{k: _jsonable(v) for k, v in settings.items()},
    }


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    if text.startswith(("sha256:", "hf-commit:")) and len(text) > 24:
        text = text[: text.index(":") + 13] + "…"
    return text if len(text) <= 60 else text[:57] + "…"


def _changes(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    keys = differing_keys(stored, current, neutral=("model_fingerprint",))
    out = []
    for k in keys:
        if k == "model.content":
            a, b = str(stored.get("model", {}).get("content", "")), str(current["model"]["content"])
            if a.startswith(UNRESOLVED) or b.startswith(UNRESOLVED):
                continue  # not knowable without a download: the same spec is taken as the same model
        out.append(k)
    return out


def _lookup(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return "<absent>"
        node = node[part]
    return node


def guard_stored_samples(
    record_path: str | os.PathLike,
    current: Mapping[str, Any],
    sample_files: Iterable[str | os.PathLike],
    *,
    overwrite: bool = False,
    what: str = "samples",
) -> list[str]:
    """Check that the stored ``sample_files`` were drawn as ``current`` (a :func:`sampling_record`) says, then write
    ``current`` to ``record_path``. Returns the keys that differed (empty when the samples are reused as they are).

    Stored samples (non-empty files) with another record, an unreadable one or none: :class:`SamplesMismatch`
    naming the differing keys, unless ``overwrite``, which deletes those files and the record first. Samples drawn
    from a model whose content was not knowable then or now (:data:`UNRESOLVED`) match the same spec."""
    record_path = Path(record_path)
    files = [Path(p) for p in sample_files]
    stored_files = [p for p in files if p.is_file() and p.stat().st_size > 0]
    folder = record_path.parent
    changed: list[str] = []
    if stored_files:
        problem = None
        if not record_path.is_file():
            changed = ["record"]
            problem = (
                f"{folder} holds {what} ({', '.join(p.name for p in stored_files)}) with no record of the model "
                f"and settings that drew them ({record_path.name} is missing)"
            )
        else:
            try:
                stored = json.loads(record_path.read_text(encoding="utf-8"))
                if not isinstance(stored, dict):
                    raise ValueError(f"expected a JSON object, got {type(stored).__name__}")
            except (UnicodeDecodeError, ValueError) as err:
                changed = ["record"]
                problem = f"{record_path}: unreadable ({err})"
            else:
                changed = _changes(stored, current)
                if changed:
                    shown = "; ".join(
                        f"{k}: {_short(_lookup(stored, k))} -> {_short(_lookup(current, k))}"
                        for k in changed[:4]
                    )
                    more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
                    problem = f"{folder} holds {what} drawn with different {changed} ({shown}{more})"
        if problem is not None:
            if not overwrite:
                raise SamplesMismatch(
                    f"{problem}; use another run_name=, or overwrite=true to delete them and sample again"
                )
            for p in stored_files:
                p.unlink()
            log.warning(
                "%s; overwrite=true: deleted %s, sampling again",
                problem,
                ", ".join(p.name for p in stored_files),
            )
    atomic_write_json(record_path, dict(current))
    return changed
