"""Fail in seconds, with one line, when a Hub model cannot be loaded: not a local folder, not in the Hugging Face
cache, and the Hub unreachable (``transformers`` would otherwise retry for about a minute and end in a traceback)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

HUB_PROBE_TIMEOUT_S = 3.0


def _hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _cached(hub_id: str, revision: str | None) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(hub_id, "config.json", revision=revision)
    return isinstance(found, str) and Path(found).is_file()


def check_model_available(model: Any, field: str = "model", local_hint: str | None = None) -> None:
    """Raise ValueError naming the model when a ``source: hub`` model is neither a local folder nor cached and the
    Hub cannot be reached (or ``HF_HUB_OFFLINE`` is set). ``model``: a ModelSpec, its mapping or a name;
    ``local_hint``: how this CLI takes a local folder instead (default: ``<field>.hub_id=<folder>``)."""
    from resrl.models.loader import resolve_spec

    spec = resolve_spec(dict(model) if isinstance(model, Mapping) else model)
    if spec.source != "hub" or Path(str(spec.hub_id)).expanduser().is_dir():
        return
    if _cached(str(spec.hub_id), spec.revision):
        return
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    if offline or not _hub_reachable():
        why = "HF_HUB_OFFLINE is set" if offline else "huggingface.co cannot be reached"
        hint = local_hint or f"point {field}.hub_id at a local folder"
        raise ValueError(
            f"{field} {spec.name!r} (hub_id {spec.hub_id}) is not in the local Hugging Face cache and "
            f"{why}; {hint}, or download it where there is network (hf download {spec.hub_id})"
        )
