"""The diagnostics in numbers: per method, the mean over logged steps, then over seeds, with the seeds' range."""

import json

import pytest

from paper_figures.diagnostics_table import main, summarize


def _log(path, values):
    path.write_text(
        "".join(json.dumps({"step": s, "diag/head/cos": v}) + "\n" for s, v in enumerate(values, 1))
    )
    return str(path)


def test_mean_over_steps_then_seeds_with_the_range(tmp_path):
    a = _log(tmp_path / "a.jsonl", [0.1, 0.3])  # seed mean 0.2
    b = _log(tmp_path / "b.jsonl", [0.5, float("nan"), 0.7])  # NaN step skipped: seed mean 0.6
    t = summarize({"resrl": [a, b]}).set_index("quantity")
    assert t.loc["diag/head/cos", "mean"] == pytest.approx(0.4)
    assert (t.loc["diag/head/cos", "low"], t.loc["diag/head/cos", "high"]) == pytest.approx((0.2, 0.6))
    assert t.loc["diag/head/cos", "seeds"] == 2
    main(["--run", f"resrl={a},{b}", "grpo=" + a, "--out", str(tmp_path / "d")])
    md = (tmp_path / "d.md").read_text()
    assert "| GRPO | ResRL |" in md and "0.2 [0.2, 0.2] | 0.4 [0.2, 0.6] |" in md
