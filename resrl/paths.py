"""Locations of the project's files (data, results), overridable by environment for relocated runs."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Root of the benchmark/training data shipped with the project (``$RESRL_DATA_DIR`` overrides)."""
    return Path(os.environ.get("RESRL_DATA_DIR", REPO_ROOT / "data"))


def results_dir() -> Path:
    """Root of all results (``$RESRL_RESULTS_DIR`` overrides)."""
    return Path(os.environ.get("RESRL_RESULTS_DIR", REPO_ROOT / "results"))


def cache_dir() -> Path:
    """Cache for derived artefacts such as the dequantised SmolLM2 checkpoint (``$RESRL_CACHE_DIR``)."""
    return Path(os.environ.get("RESRL_CACHE_DIR", REPO_ROOT / "results" / "cache"))
