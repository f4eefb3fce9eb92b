"""A code benchmark is one module (a registered :class:`CodeBenchmark`) plus one config: a toy benchmark defined
here runs through the code evaluator's whole pipeline (load, prepare, grade, metrics, its own extra rows) with no
code naming it anywhere else."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaluators.code import benchmarks
from evaluators.code import run as run_mod
from evaluators.code.benchmarks import CodeBenchmark, CodeTask
from evaluators.code.config import CodeBenchmarkConfig, CodeEvalConfig
from evaluators.common.schema import MetricRow
from resrl.rollout.base import Rollout


class Toy(CodeBenchmark):
    name = "toy_code"
    shipped_data = Path("toy")

    def read_tasks(self, b):
        return [CodeTask(f"toy/{i}", f"say ok {i}", {"want": f"ok{i}"}) for i in range(3)]

    def prepare(self, tasks, b, workers):
        return {t.id: t.problem["want"] for t in tasks}

    def grade(self, text, task, b, prepared):
        return {
            "program": text,
            "status": "passed" if text == prepared[task.id] else "failed",
            "correct": text == prepared[task.id],
        }

    def extra_rows(self, cfg, tasks, table, label, rows, metrics_dir):
        solved = sum(any(c) for c in table[self.name])
        return rows + [
            MetricRow(label, cfg.method, self.name, "solved", cfg.n, solved, solved, solved, cfg.n)
        ], {"solved": solved}


class Sampler:
    load_seconds, engine, device = 0.0, "scripted", "cpu"

    def __init__(self, cfg):
        pass

    def prompt(self, task):
        return task.id

    def generate(self, prompts, n, seed):  # sample 0 right for the first two problems, everything else wrong
        return [
            Rollout(p, s, [0], [1], f"ok{p}" if s == 0 and p < 2 else "no")
            for p in range(len(prompts))
            for s in range(n)
        ]


def test_a_registered_benchmark_runs_end_to_end(tmp_path, monkeypatch):
    if "toy_code" not in benchmarks.names():
        benchmarks.register(Toy)
    monkeypatch.setattr(run_mod, "LazySampler", Sampler)
    cfg = CodeEvalConfig(
        benchmark=CodeBenchmarkConfig(name="toy_code"),
        model={"name": "tiny-qwen3", "source": "random"},
        n=2,
        n_boot=20,
        results_dir=str(tmp_path),
    )
    out = run_mod.run(cfg)
    df = pd.read_csv(out["metrics_path"])
    got = {(r.benchmark, r.metric, r.k): r.value for r in df.itertuples()}
    assert got[("toy_code", "pass@k", 2)] == pytest.approx(2 / 3, abs=1e-6)
    assert got[("toy_code", "avg@k", 2)] == pytest.approx(1 / 3, abs=1e-6)
    assert got[("toy_code", "solved", 2)] == 2
