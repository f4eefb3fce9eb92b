"""The tidy metrics table shared by all evaluators: one row per (model, method, benchmark, metric, k).

Columns: ``model, method, benchmark, metric, k, value, ci_low, ci_high, n_samples, seed``.
``value``/``ci_*`` are fractions in [0, 1] for accuracy-type metrics; ``n_samples`` is the number of samples
per problem the estimate was computed from. ``ci_low``/``ci_high`` are NaN when no interval was computed.
``seed`` is the run's seed (in the DAG: the training seed of the evaluated policy, also its sampling seed); files
written before the column existed read as seed 0.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from evaluators.common.atomic import atomic_write_bytes

METRIC_COLUMNS: tuple[str, ...] = (
    "model",
    "method",
    "benchmark",
    "metric",
    "k",
    "value",
    "ci_low",
    "ci_high",
    "n_samples",
    "seed",
)
_FORMATS = (".csv", ".parquet")


@dataclass(frozen=True)
class MetricRow:
    """One tidy metrics row. ``metric`` is e.g. ``"avg@k"`` or ``"pass@k"``; ``benchmark`` may be ``"macro"``."""

    model: str
    method: str
    benchmark: str
    metric: str
    k: int
    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    n_samples: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("model", "method", "benchmark", "metric"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"MetricRow.{name} must be a non-empty string, got {getattr(self, name)!r}")
        if int(self.k) < 1:
            raise ValueError(f"MetricRow.k must be >= 1, got {self.k}")


assert tuple(f.name for f in fields(MetricRow)) == METRIC_COLUMNS


def rows_to_frame(rows: Iterable[MetricRow]) -> pd.DataFrame:
    """A DataFrame with exactly :data:`METRIC_COLUMNS`, in that order."""
    df = pd.DataFrame([asdict(r) for r in rows], columns=list(METRIC_COLUMNS))
    return df.astype(
        {
            "k": "int64",
            "n_samples": "int64",
            "seed": "int64",
            "value": "float64",
            "ci_low": "float64",
            "ci_high": "float64",
        }
    )


def write_metrics(rows: Iterable[MetricRow], path: str | os.PathLike) -> Path:
    """Write rows atomically as CSV or Parquet, chosen by the suffix of ``path`` (``.csv``/``.parquet``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"metrics path {path} must end with one of {list(_FORMATS)}")
    df = rows_to_frame(rows)
    buf = io.BytesIO()
    if suffix == ".csv":
        buf.write(df.to_csv(index=False, float_format="%.6g").encode("utf-8"))
    else:
        df.to_parquet(buf, index=False)
    return atomic_write_bytes(path, buf.getvalue())


def with_seed_column(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``seed`` column (0 where a file written before the column existed has none)."""
    return df if "seed" in df.columns else df.assign(seed=0)


def read_metrics(path: str | os.PathLike) -> pd.DataFrame:
    """Read a metrics file written by :func:`write_metrics`; checks the columns."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"metrics file not found: {path}")
    df = with_seed_column(pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path))
    missing = [c for c in METRIC_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing metrics columns {missing}; expected {list(METRIC_COLUMNS)}")
    return df[list(METRIC_COLUMNS)]
