"""A run folder belongs to one resolved configuration.

``run_identity.json`` records the configuration's fingerprint (``resrl.records.config_fingerprint``) without the
result-neutral settings in :data:`NEUTRAL_KEYS`; ``complete.json`` is written after the final export. Before any
work, :func:`check_run_folder` decides what a command may do with a folder:

- ``new``: no records yet: train from scratch (the identity is written once the model has loaded);
- ``resume``: same fingerprint, not finished, or finished with fewer steps than asked (training continues);
- ``complete``: same fingerprint, finished at exactly ``trainer.steps``: nothing to do;
- a ``ValueError`` naming the differing keys (another configuration's folder), a smaller ``trainer.steps`` than
  the finished run's, or a folder with records but no identity (not made by this trainer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from resrl.records import atomic_write_json, config_fingerprint, differing_keys
from resrl.records.fingerprint import flatten

IDENTITY_FILE = "run_identity.json"
COMPLETE_FILE = "complete.json"
LOCK_FILE = ".lock"
#: settings that do not change what a run computes (so a resume may change them)
NEUTRAL_KEYS = (
    "output_dir",
    "run_name",
    "trainer.resume",
    "trainer.save_every",
    "trainer.keep_checkpoints",
    "trainer.full_fallback_checkpoints",
    "trainer.clean_checkpoints_when_done",
    "trainer.steps",
    "trainer.logger",  # trackers see the numbers, they do not change them
    "trainer.project_name",
)
#: what a run folder holds once it has produced anything
RECORDS = (
    "metrics.jsonl",
    "eval.jsonl",
    "checkpoints",
    "final_model",
    "run_config.json",
    IDENTITY_FILE,
    COMPLETE_FILE,
)


def identity(config: dict[str, Any]) -> dict[str, Any]:
    kept = {
        k: v
        for k, v in flatten(config).items()
        if not any(k == n or k.startswith(n + ".") for n in NEUTRAL_KEYS)
    }
    return {
        "fingerprint": config_fingerprint(config, NEUTRAL_KEYS),
        "config": kept,
        "neutral_keys": list(NEUTRAL_KEYS),
    }


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def check_run_folder(run_dir: Path, config: dict[str, Any]) -> str:
    """``"new"``, ``"resume"`` or ``"complete"`` for ``config`` in ``run_dir`` (see the module docstring)."""
    present = [name for name in RECORDS if (run_dir / name).exists()]
    if not present:
        return "new"
    ident_path = run_dir / IDENTITY_FILE
    if not ident_path.is_file():
        raise ValueError(
            f"{run_dir} holds {', '.join(present)} but no {IDENTITY_FILE}: not a run of this trainer's "
            "configuration; choose another output_dir (or run_name)"
        )
    recorded = json.loads(ident_path.read_text())
    if recorded.get("fingerprint") != identity(config)["fingerprint"]:
        theirs, ours = recorded.get("config", {}), identity(config)["config"]
        keys = differing_keys(theirs, ours)
        shown = ", ".join(
            f"{k} ({_short(theirs.get(k, '<absent>'))} -> {_short(ours.get(k, '<absent>'))})"
            for k in keys[:6]
        ) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
        raise ValueError(
            f"{run_dir} holds a run with another configuration: {shown}; start a new run with another "
            "run_name=... (or output_dir=...), or rerun with the folder's settings"
        )
    done = run_dir / COMPLETE_FILE
    if done.is_file():
        finished = int(json.loads(done.read_text()).get("step", 0))
        steps = int(config["trainer"]["steps"])
        if steps < finished:
            raise ValueError(
                f"{run_dir} finished at step {finished}; trainer.steps={steps} is smaller (a shorter run "
                "is another run: choose another run_name)"
            )
        if steps == finished:
            return "complete"
    return "resume"


def write_identity(run_dir: Path, config: dict[str, Any]) -> None:
    atomic_write_json(run_dir / IDENTITY_FILE, identity(config))


def mark_complete(run_dir: Path, summary: dict[str, Any]) -> None:
    atomic_write_json(run_dir / COMPLETE_FILE, summary)


def clear_complete(run_dir: Path) -> None:
    """Continuing a finished run to more steps: it is no longer complete until it finishes again."""
    (run_dir / COMPLETE_FILE).unlink(missing_ok=True)
