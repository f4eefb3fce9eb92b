"""Codeforces: stdin/stdout problems with their tests and ratings; besides Avg@k and Pass@k, an Elo rating and its
percentile among rated users (``codeforces_elo.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.code import codeforces as cf
from evaluators.code.benchmarks.base import CodeBenchmark, CodeTask, register
from evaluators.code.prompting import stdin_user
from evaluators.common import atomic_write_json
from evaluators.common.schema import MetricRow


@register
class Codeforces(CodeBenchmark):
    name = "codeforces"
    shipped_data = Path(cf.DATA_DIR)

    def read_tasks(self, b: Any) -> list[CodeTask]:
        return [
            CodeTask(p.id, stdin_user(p.statement), p, p.rating)
            for p in cf.load_problems(b.data_path, None, b.skip_interactive)
        ]

    def grade(self, text: str, task: CodeTask, b: Any, prepared: Any) -> dict[str, Any]:
        program = cf.program_from_response(text)
        return {
            "program": program,
            **cf.grade_program(program, task.problem, b.time_factor, b.min_timeout_s, b.memory_factor),
        }

    def extra_rows(
        self, cfg: Any, tasks: list[CodeTask], table: dict, label: str, rows: list, metrics_dir: Path
    ):
        """Elo (rating points) and percentile rows with their intervals; the report beside the metrics."""
        from evaluators.code.elo import RatingTable, elo_report, estimate_elo

        b = cfg.benchmark
        est = estimate_elo(
            [t.rating for t in tasks],
            table[self.name],
            (b.elo_lower, b.elo_upper),
            cfg.n_boot,
            1 - cfg.ci,
            cfg.seed,
        )
        table_path = cf.rating_table_path(b.data_path)
        report = elo_report(est, RatingTable.load(table_path), str(table_path.name))
        report["problems"] = [t.id for t in tasks]
        atomic_write_json(metrics_dir / "codeforces_elo.json", report)
        lo, hi = report["percentile_ci"]
        rows = rows + [
            MetricRow(label, cfg.method, self.name, "elo", cfg.n, est.rating, est.ci_low, est.ci_high, cfg.n),
            MetricRow(label, cfg.method, self.name, "percentile", cfg.n, report["percentile"], lo, hi, cfg.n),
        ]
        keys = ("rating", "ci_low", "ci_high", "at_bound", "percentile", "percentile_ci")
        return rows, {"elo": {k: report[k] for k in keys}}
