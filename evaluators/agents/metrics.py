"""Tidy metrics rows of agent episodes, named as ``paper_figures/table3.py`` reads them.

- ALFWorld: ``alfworld`` (all games) and ``alfworld_<short type>`` (``pick``, ``look``, ``clean``, ``heat``,
  ``cool``, ``pick2``; only types that were played), metric ``success``;
- WebShop: ``webshop``, metrics ``score`` (mean final reward) and ``success`` (reward == 1);
- TextWorld: ``textworld``, metric ``success``.

A value is the mean over games of each game's mean over its episodes (one episode per game in the paper's
protocol); ``k`` is 1; ``n_samples`` is the number of episodes per game; the interval is the percentile bootstrap
over games (``evaluators.metrics.bootstrap_ci``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from evaluators.agents.tasks import TASK_TYPES
from evaluators.common.schema import MetricRow
from evaluators.metrics import bootstrap_ci

#: metric name -> episode record field, per environment family.
METRICS = {
    "alfworld": {"success": "success"},
    "textworld": {"success": "success"},
    "webshop": {"score": "score", "success": "success"},
}


def _row(
    model: str,
    method: str,
    bench: str,
    metric: str,
    per_game: dict[str, list[float]],
    n_boot: int,
    alpha: float,
    seed: int,
) -> MetricRow:
    means = np.array([np.mean(v) for v in per_game.values()], dtype=np.float64)
    lo, hi = bootstrap_ci(means, n_boot=n_boot, alpha=alpha, seed=seed)
    n = min(len(v) for v in per_game.values())
    return MetricRow(model, method, bench, metric, 1, float(means.mean()), float(lo), float(hi), int(n))


def agent_metric_rows(
    env: str,
    records: Iterable[dict[str, Any]],
    model: str,
    method: str,
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> list[MetricRow]:
    """Rows for episode ``records`` (dicts with ``problem_id``, ``task_type``, ``success`` and, for WebShop,
    ``score``). Raises on an unknown env or an empty record list."""
    if env not in METRICS:
        raise ValueError(f"no metrics for env {env!r}; known: {sorted(METRICS)}")
    records = list(records)
    if not records:
        raise ValueError(f"no {env} episodes to compute metrics from")
    groups: dict[str, list[dict[str, Any]]] = {env: records}
    if env == "alfworld":
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            if r.get("task_type") not in TASK_TYPES:
                raise ValueError(
                    f"episode {r.get('problem_id')!r}: unknown ALFWorld task type {r.get('task_type')!r}"
                )
            by_type[r["task_type"]].append(r)
        groups.update({f"alfworld_{short}": by_type[t] for t, short in TASK_TYPES.items() if t in by_type})
    rows = []
    for bench, recs in groups.items():
        for metric, field in METRICS[env].items():
            per_game: dict[str, list[float]] = defaultdict(list)
            for r in recs:
                per_game[r["problem_id"]].append(float(r[field]))
            rows.append(_row(model, method, bench, metric, per_game, n_boot, alpha, seed))
    return rows
