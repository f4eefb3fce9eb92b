"""Seeds in the tables: the collapse to one row per cell with its interval, the bold rule and the differences to a
baseline, on hand-made per-problem scores."""

import math

import pandas as pd
import pytest

from evaluators.common.run import PROBLEM_COLUMNS, problems_path
from evaluators.common.schema import MetricRow, write_metrics
from paper_figures import table1
from paper_figures.cli import table_main
from paper_figures.common import build_table
from paper_figures.seeds import (
    baseline_differences,
    bold_where_separated,
    collapse_seeds,
    load_problem_scores,
    score_matrix,
)


def _scores(method, seed, values, bench="arith", metric="avg@k", k=4):
    return [("m", method, seed, bench, metric, k, i, v) for i, v in enumerate(values)]


def _frames(per_method):
    """{method: {seed: [per-problem scores]}} -> (tidy metrics, problem scores), Avg@4 on arith."""
    metrics, problems = [], []
    for method, seeds in per_method.items():
        for seed, values in seeds.items():
            metrics.append(
                MetricRow("m", method, "arith", "avg@k", 4, sum(values) / len(values), seed=seed).__dict__
            )
            problems += _scores(method, seed, values)
    return pd.DataFrame(metrics), pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))


def test_score_matrix_is_seeds_by_problems_and_refuses_unequal_problem_sets():
    _, problems = _frames({"grpo": {1: [0.0, 1.0, 0.5], 0: [1.0, 1.0, 0.0]}})
    m = score_matrix(problems, "m", "grpo", "arith", "avg@k", 4)
    assert m.tolist() == [[1.0, 1.0, 0.0], [0.0, 1.0, 0.5]]  # seed 0 first
    ragged = problems.iloc[:-1]  # seed 1 lacks its last problem
    assert score_matrix(ragged, "m", "grpo", "arith", "avg@k", 4) is None
    assert score_matrix(problems, "m", "resrl", "arith", "avg@k", 4) is None


def test_collapse_seeds_means_over_seeds_with_the_right_kind_of_interval():
    metrics, problems = _frames(
        {"grpo": {0: [0.5, 0.5], 1: [0.5, 0.5]}, "resrl": {0: [0.2, 0.2], 1: [0.4, 0.4]}}
    )
    both = collapse_seeds(metrics, problems).set_index("method")
    assert both.loc["grpo", "value"] == pytest.approx(0.5) and both.loc["grpo", "n_seeds"] == 2
    # every seed and problem scores 0.5: every bootstrap replicate is 0.5
    assert (both.loc["grpo", "ci_low"], both.loc["grpo", "ci_high"]) == pytest.approx((0.5, 0.5))
    assert both.loc["resrl", "interval"] == "seeds+problems"
    assert both.loc["resrl", "value"] == pytest.approx(0.3)
    assert 0.2 <= both.loc["resrl", "ci_low"] < 0.3 < both.loc["resrl", "ci_high"] <= 0.4
    only_metrics = collapse_seeds(metrics).set_index("method")  # no per-problem scores: the seeds' values
    assert only_metrics.loc["resrl", "interval"] == "seeds" and only_metrics.loc[
        "resrl", "value"
    ] == pytest.approx(0.3)
    one = metrics[metrics["seed"] == 0].assign(ci_low=0.1, ci_high=0.3)
    single = collapse_seeds(one).set_index("method")  # one seed, no scores: the evaluator's own interval
    assert single.loc["resrl", "interval"] == "problems"
    assert (single.loc["resrl", "ci_low"], single.loc["resrl", "ci_high"]) == (0.1, 0.3)


def _table(per_method):
    metrics, problems = _frames(per_method)
    collapsed = collapse_seeds(metrics, problems)
    cols = [c for c in table1.columns(4) if c.benchmark == "arith"]
    return build_table(collapsed, cols), cols, collapsed, problems


def test_bold_only_where_the_best_beats_the_runner_up_beyond_the_noise():
    ahead = {"grpo": {0: [0.0] * 12, 1: [0.0] * 12}, "resrl": {0: [1.0] * 12, 1: [1.0] * 12}}
    table, cols, collapsed, problems = _table(ahead)
    mask, notes = bold_where_separated(table, cols, collapsed, problems)
    assert mask.loc[("m", "resrl"), cols[0].header] and not mask.loc[("m", "grpo"), cols[0].header]
    assert notes == []
    # ResRL ahead on one problem of twelve: the paired interval includes 0 -> tied, nothing bold
    close = {"grpo": {0: [0.5] * 12, 1: [0.5] * 12}, "resrl": {0: [0.5] * 11 + [1.0], 1: [0.5] * 12}}
    table, cols, collapsed, problems = _table(close)
    mask, notes = bold_where_separated(table, cols, collapsed, problems)
    assert not mask.to_numpy().any()
    assert len(notes) == 1 and "Arith (held-out) (ResRL vs GRPO)" in notes[0] and "Tied" in notes[0]


def test_differences_to_the_baseline_are_paired_and_starred_when_they_exclude_zero():
    table, cols, collapsed, problems = _table(
        {"grpo": {0: [0.0, 1.0] * 5}, "resrl": {0: [1.0, 1.0] * 5}, "dapo": {0: [0.0, 1.0] * 4 + [1.0, 0.0]}}
    )
    md = baseline_differences(table, cols, collapsed, problems, "grpo")
    resrl = next(line for line in md.splitlines() if "| ResRL |" in line)  # 1 - 0 or 1 - 1 on each problem
    assert resrl.startswith("| m | ResRL | +50.0 [") and resrl.endswith("] * |")
    dapo = next(line for line in md.splitlines() if "| DAPO |" in line)
    assert dapo.startswith("| m | DAPO | +0.0 [") and not dapo.endswith("* |")
    assert baseline_differences(table, cols, collapsed, problems, "ppo") == ""  # no such baseline


def test_table_cli_reads_problem_scores_beside_each_seeds_metrics(tmp_path):
    files = []
    for method, values in {"grpo": [0.0, 0.5] * 6, "resrl": [1.0, 1.0] * 6}.items():
        for seed in (0, 1):
            path = tmp_path / method / f"s{seed}" / "metrics.csv"
            path.parent.mkdir(parents=True)
            write_metrics([MetricRow("m", method, "arith", "avg@k", 4, sum(values) / 12, seed=seed)], path)
            pd.DataFrame(_scores(method, seed, values), columns=list(PROBLEM_COLUMNS)).to_csv(
                problems_path(path), index=False
            )
            files.append(str(path))
    assert len(load_problem_scores(files)) == 2 * 2 * 12
    table_main(
        "table1", "Table 1", "tab:x", table1.columns, ["--metrics", *files, "--out", str(tmp_path / "t")]
    )
    md = (tmp_path / "t.md").read_text()
    main = md.split("**Difference to GRPO**")[0]
    rows = {line.split(" | ")[1]: line for line in main.splitlines() if line.startswith("| m | ")}
    assert rows["ResRL"] == "| m | ResRL | **100.0 [100.0, 100.0]** |"  # only the measured column is shown
    assert rows["GRPO"].split(" | ")[-1].startswith("25.0 [")
    assert "mean over 2 seed(s)" in md and "seeds and problems" in md
    assert "**Difference to GRPO**" in md and "| +75.0 [" in md.split("**Difference to GRPO**")[1]
    assert r"\scriptsize" in (tmp_path / "t.tex").read_text()
    assert not math.isnan(
        build_table(collapse_seeds(pd.read_csv(files[0])), table1.columns(4))["Arith (held-out)"].iloc[0]
    )
