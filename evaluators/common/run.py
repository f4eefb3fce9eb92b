"""What every evaluation run does around its own work: name and place the run, refuse mixed samples, hold the
run's lock, write metrics and run info, print the terminal table.

A family's ``run(cfg)`` reads::

    run = open_run(cfg)                                   # label, run name, folders, model spec, engine check
    with run.locked(".lock"):                              # one process per run (and per benchmark) at a time
        record = run.guard(cfg, KEYS, record_path, stored_files)
        ... sample / play, grade, compute rows ...
        return run.finish(cfg, rows, metrics_file, policy, record, timings, **extra)

Outputs (``R`` = ``results_dir``, default ``results/``): ``R/samples/<run>/`` (the stored samples and the
settings record beside them) and ``R/metrics/<run>/`` (the metrics file and its ``*run_info.json``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evaluators.common.policy import check_engine_device, model_label, model_spec
from evaluators.common.provenance import write_provenance
from evaluators.common.schema import MetricRow, rows_to_frame, write_metrics
from resrl.paths import results_dir


@dataclasses.dataclass
class EvalRun:
    """Who is evaluated and where the run writes."""

    label: str  # the model's label in the metrics table
    run_name: str  # <method>-<label> unless given
    samples_dir: Path  # R/samples/<run>
    metrics_dir: Path  # R/metrics/<run>
    spec: Any  # resrl.models.ModelSpec
    started: float  # time.monotonic() at open_run

    @contextmanager
    def locked(self, lock_name: str = ".lock", what: str | None = None) -> Iterator[None]:
        """Hold ``samples/<run>/<lock_name>``: a second process on the same run stops at once, naming the first."""
        from resrl.records import exclusive_lock

        with exclusive_lock(self.samples_dir / lock_name, what=what or f"evaluation run {self.run_name}"):
            yield

    def guard(
        self,
        cfg: Any,
        keys: Sequence[str],
        record_path: Path,
        stored: Sequence[Path],
        *,
        what: str = "samples",
        **values: Any,
    ) -> dict[str, Any]:
        """Record the model's identity and the settings ``keys`` of ``cfg`` (``values`` override or add some) in
        ``record_path``; refuse ``stored`` files drawn by another model or under other settings
        (``cfg.overwrite``: delete them). Returns the record."""
        from evaluators.common.sample_guard import guard_stored_samples

        current = self.settings(cfg, keys, **values)
        guard_stored_samples(record_path, current, list(stored), overwrite=cfg.overwrite, what=what)
        return current

    def settings(self, cfg: Any, keys: Sequence[str], **values: Any) -> dict[str, Any]:
        """The settings record (model identity + ``keys`` of ``cfg``) without touching the disk."""
        from evaluators.common.sample_guard import model_identity, sampling_record

        settings = {k: getattr(cfg, k) for k in keys}
        settings.update(values)
        return sampling_record(model_identity(self.spec), **settings)

    def finish(
        self,
        cfg: Any,
        rows: list[MetricRow],
        metrics_file: str,
        policy: Any,
        record: dict[str, Any],
        timings: dict[str, Any],
        *,
        info_file: str = "run_info.json",
        samples_path: Path | None = None,
        correct: dict[str, list[list[bool]]] | None = None,
        **info: Any,
    ) -> dict[str, Any]:
        """Write ``metrics/<run>/<metrics_file>`` and the run info (resolved config, git commit, packages, seed,
        engine, device, the model's content fingerprint, ``timings`` and ``info``); the result of ``run(cfg)``.
        ``samples_path``: the run's one samples file, when it has one. ``correct`` (``[benchmark][problem][sample]``,
        sampled evaluations): also each problem's scores, ``<metrics stem>.problems.csv`` beside the metrics (what
        the tables' intervals over seeds and problems are computed from)."""
        rows = [dataclasses.replace(r, seed=int(cfg.seed)) for r in rows]  # every row names the run's seed
        metrics_path = write_metrics(rows, self.metrics_dir / metrics_file)
        if correct is not None:
            write_problem_scores(
                problem_score_frame(rows[0].model if rows else self.label, cfg, correct),
                problems_path(metrics_path),
            )
        where = {"samples_dir": self.samples_dir} | ({"samples_path": samples_path} if samples_path else {})
        info_path = write_provenance(
            self.metrics_dir / info_file,
            config=dataclasses.asdict(cfg),
            seed=cfg.seed,
            run_name=self.run_name,
            model=self.label,
            engine=getattr(policy, "engine", None),  # None: nothing was sampled (a fully resumed run)
            device=getattr(policy, "device", None),
            **{k: str(v) for k, v in where.items()},
            model_fingerprint=record["model_fingerprint"],
            timings=timings,
            **info,
        )
        return {
            "run_name": self.run_name,
            "rows": rows,
            "metrics_path": metrics_path,
            "info_path": info_path,
            "timings": timings,
            **where,
        }

    def sampled_rows(
        self, cfg: Any, correct: dict[str, list[list[bool]]], *, macro: bool = True
    ) -> list[MetricRow]:
        """Avg@n and Pass@k rows (``evaluators.metrics``) of ``correct[benchmark][problem][sample]`` with the run's
        label, the config's method, ``pass_ks``/``max_k``, bootstrap size, interval level and seed."""
        from evaluators.metrics import compute_metric_rows

        return compute_metric_rows(
            self.label,
            cfg.method,
            correct,
            pass_ks=cfg.pass_ks,
            max_k=cfg.max_k,
            n_boot=cfg.n_boot,
            alpha=1 - cfg.ci,
            seed=cfg.seed,
            macro=macro,
        )

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)


#: The per-problem score file's columns: one row per (benchmark, metric, k, problem) of one run.
PROBLEM_COLUMNS = ("model", "method", "seed", "benchmark", "metric", "k", "problem", "value")


def problems_path(metrics_path: str | Path) -> Path:
    """``.../metrics.csv`` -> ``.../metrics.problems.csv`` (the per-problem scores beside a metrics file)."""
    p = Path(metrics_path)
    return p.with_name(f"{p.stem}.problems.csv")


def problem_score_frame(model: str, cfg: Any, correct: dict[str, list[list[bool]]]):
    """Each problem's Avg@n and Pass@k of ``correct[benchmark][problem][sample]`` (``evaluators.metrics``), with the
    run's model label, method and seed; problems numbered in the benchmark's order (the same problems, in the same
    order, for every seed and method of a profile, which is what pairs them)."""
    import pandas as pd

    from evaluators.metrics import per_problem_scores

    rows = [
        (model, cfg.method, int(cfg.seed), bench, metric, int(k), i, float(v))
        for bench, metric, k, _n, values in per_problem_scores(correct, cfg.pass_ks, cfg.max_k)
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))


def write_problem_scores(frame: Any, path: Path) -> Path:
    from evaluators.common.atomic import atomic_write_bytes

    return atomic_write_bytes(path, frame.to_csv(index=False, float_format="%.6g").encode("utf-8"))


def open_run(cfg: Any) -> EvalRun:
    """Resolve the model (a bad name or folder fails here, before anything is written), the engine and device (a
    missing GPU or vLLM fails here), the run's name and folders."""
    started = time.monotonic()
    label = model_label(cfg)
    run_name = cfg.run_name or f"{cfg.method}-{label}"
    root = Path(cfg.results_dir) if cfg.results_dir else results_dir()
    spec = model_spec(cfg)
    check_engine_device(cfg.engine, cfg.device)
    return EvalRun(label, run_name, root / "samples" / run_name, root / "metrics" / run_name, spec, started)


def format_table(rows: list[MetricRow]) -> str:
    """The terminal table: one line per benchmark, one column per metric (``avg@16``, ``pass@4``, ``success``...):
    percentages with the interval's half-width; ratings (``elo``, ``percentile``) as value [low, high]."""
    df = rows_to_frame(rows)
    if df.empty:
        return "(no metrics)"

    def column(metric: str, k: Any) -> str:
        return f"{metric.split('@')[0]}@{k}" if metric.endswith("@k") else metric

    def cell(r: Any) -> str:
        if r.metric in ("elo", "percentile"):
            return f"{r.value:7.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}]"
        return f"{100 * r.value:5.1f} ±{100 * (r.ci_high - r.ci_low) / 2:4.1f}"

    df["col"] = [column(m, k) for m, k in zip(df.metric, df.k, strict=True)]
    df["cell"] = [cell(r) for r in df.itertuples()]
    table = df.pivot(index="benchmark", columns="col", values="cell")[list(dict.fromkeys(df["col"]))]
    return table.reindex(list(dict.fromkeys(df["benchmark"]))).fillna("").to_string()


def print_result(out: dict[str, Any], headline: str) -> None:
    """The end of a CLI run: the headline, the table, where everything went, the timings."""
    print(f"\nrun {out['run_name']}  ({headline})")
    print(format_table(out["rows"]))
    print(
        f"\nmetrics: {out['metrics_path']}\nsamples: {out.get('samples_path') or out['samples_dir']}\nrun info: {out['info_path']}"
    )
    print(f"timings: {out['timings']}")
