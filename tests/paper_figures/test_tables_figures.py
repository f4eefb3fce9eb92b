"""Tables and figures from small fixture metrics: values land in the right cells, best in bold."""

import json
import math

import pandas as pd
import pytest

from evaluators.common.schema import MetricRow, write_metrics
from paper_figures import compare, table1, table2
from paper_figures.common import build_table, render_latex, render_markdown
from paper_figures.passk import plot_passk
from paper_figures.training_curves import plot_training


def _math_rows(model, method, base):
    rows = []
    for i, b in enumerate(["aime24", "aime25", "amc23", "math500", "minerva", "olympiad", "macro"]):
        rows.append(MetricRow(model, method, b, "avg@k", 16, base + 0.01 * i, n_samples=16))
    for k in (1, 2, 4, 8, 16):
        rows.append(
            MetricRow(
                model,
                method,
                "aime24",
                "pass@k",
                k,
                min(1.0, base + 0.05 * math.log2(k)),
                base,
                base + 0.1,
                16,
            )
        )
    return rows


@pytest.fixture
def metrics(tmp_path):
    rows = (
        _math_rows("qwen3-4b", "grpo", 0.40)
        + _math_rows("qwen3-4b", "resrl", 0.50)
        + _math_rows("qwen3-8b", "resrl", 0.30)
    )
    rows.append(MetricRow("qwen3-4b", "resrl", "codeforces", "elo", 1, 1469.5))
    rows.append(MetricRow("qwen3-4b", "grpo", "codeforces", "elo", 1, 1267.9))
    path = tmp_path / "m.csv"
    write_metrics(rows, path)
    return path


def test_table1_cells_and_bold(metrics, tmp_path):
    df = pd.read_csv(metrics)
    cols = table1.columns(16)
    t = build_table(df, cols)
    assert t.loc[("qwen3-4b", "resrl"), "AIME24"] == pytest.approx(50.0)
    assert t.loc[("qwen3-4b", "grpo"), "Avg."] == pytest.approx(42.5)  # mean of the six, not the macro row
    assert t.loc[("qwen3-8b", "resrl"), "MATH-500"] == pytest.approx(33.0)
    md = render_markdown(t, cols, "T1")
    assert "| qwen3-4b | ResRL | **50.0** |" in md  # best of its model block
    assert "| qwen3-4b | GRPO | 40.0 |" in md
    assert "| qwen3-8b | ResRL | **30.0** |" in md  # alone in its block: best
    tex = render_latex(t, cols, "T1", "tab:x")
    assert r"\textbf{50.0}" in tex and r"\begin{tabular}" in tex


def test_missing_cells_render_as_dash(metrics):
    t = build_table(pd.read_csv(metrics), table2.columns(16))
    md = render_markdown(t, table2.columns(16))
    assert "**1469.5**" in md and "1267.9" in md and "—" in md


def test_table_cli_writes_md_and_tex(metrics, tmp_path, capsys):
    from paper_figures.cli import table_main

    table_main(
        "table1",
        "Table 1",
        "tab:math",
        table1.columns,
        ["--metrics", str(metrics), "--out", str(tmp_path / "t1")],
    )
    md = (tmp_path / "t1.md").read_text()
    assert md.count("| qwen3-4b |") == 2
    assert "Arith" not in md  # optional column without data is left out
    assert (tmp_path / "t1.tex").exists()


def test_avg_needs_all_six_and_arith_column_appears_when_measured(tmp_path):
    rows = [
        MetricRow("smollm2-135m", "resrl", "math500", "avg@k", 8, 0.0),
        MetricRow("smollm2-135m", "resrl", "arith", "avg@k", 8, 0.25),
    ]
    t = build_table(pd.DataFrame([r.__dict__ for r in rows]), table1.columns(8))
    assert math.isnan(t.loc[("smollm2-135m", "resrl"), "Avg."])
    assert t.loc[("smollm2-135m", "resrl"), "Arith (held-out)"] == pytest.approx(25.0)


def test_passk_plot_files(metrics, tmp_path):
    paths = plot_passk(pd.read_csv(metrics), tmp_path / "passk", model="qwen3-4b")
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_training_curves(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text(
        "\n".join(
            json.dumps({"step": s, "reward_mean": 0.1 * s, "entropy": 1.0, "resrl/weight_mean": 0.5})
            for s in (1, 2, 3)
        )
        + "\n{trunc"
    )
    paths = plot_training({"resrl": p}, tmp_path / "curves")
    assert all(p.exists() for p in paths)


def test_compare_matches_cells_and_computes_delta(metrics):
    ref = pd.DataFrame(
        [
            {
                "table": "table1",
                "model": "Qwen3-4B",
                "method": "ResRL",
                "benchmark": "math_average",
                "metric": "avg@16",
                "value": 57.0,
                "source": "s",
                "confidence": "high",
            },
            {
                "table": "table2",
                "model": "Qwen3-4B",
                "method": "ResRL",
                "benchmark": "codeforces",
                "metric": "elo",
                "value": 1469.5,
                "source": "s",
                "confidence": "high",
            },
            {
                "table": "table1",
                "model": "Qwen3-4B",
                "method": "NSR",
                "benchmark": "math_average",
                "metric": "avg@16",
                "value": 52.1,
                "source": "s",
                "confidence": "unverified",
            },
            {
                "table": "text",
                "model": "Qwen3-4B",
                "method": "ResRL_vs_NSR",
                "benchmark": "math_average",
                "metric": "avg@16_rel_gain_pct",
                "value": 9.4,
                "source": "s",
                "confidence": "high",
            },
        ]
    )
    out = compare.compare(ref, pd.read_csv(metrics))
    assert (
        len(out) == 4
    )  # the relative-gain sentence is not a cell; the paper's NSR is compared with both variants
    r = out.set_index(["method", "metric"])
    assert r.loc[("ResRL", "avg@16"), "reproduced"] == pytest.approx(56.0)  # macro 0.50 + 0.06
    assert r.loc[("ResRL", "avg@16"), "delta"] == pytest.approx(-1.0)
    assert r.loc[("ResRL", "elo"), "delta"] == pytest.approx(0.0)
    assert math.isnan(r.loc[("NSR vs ours NSR (λ=0)", "avg@16"), "reproduced"])
    assert math.isnan(r.loc[("NSR vs ours W-REINFORCE (λ=0.1)", "avg@16"), "reproduced"])
    md = compare.render(out, pd.read_csv(metrics))
    assert "Cells with both values: 2 of 4." in md


def test_reference_file_parses():
    from resrl.paths import REPO_ROOT

    ref = pd.read_csv(REPO_ROOT / "results" / "paper" / "reference.csv")
    assert {"table", "model", "method", "benchmark", "metric", "value", "source", "confidence"} <= set(
        ref.columns
    )
    assert ((ref["method"] == "ResRL") & (ref["metric"] == "elo")).sum() == 1


def _ref_row(table, model, method, benchmark, metric, value):
    return {
        "table": table,
        "model": model,
        "method": method,
        "benchmark": benchmark,
        "metric": metric,
        "value": value,
        "source": "s",
        "confidence": "unverified",
    }


def test_compare_matches_by_table_and_domain(tmp_path):
    """A row of ours matches only the paper's rows of the table its domain trained for; an unspecified paper model
    is compared with each of our models of that table, named."""
    alf = write_metrics(
        [MetricRow("qwen3-4b", "resrl", "alfworld", "success", 1, 0.8, 0.7, 0.9, 12)], tmp_path / "alf.csv"
    )
    maths = write_metrics(  # the same benchmark name from another domain must not be picked up
        [MetricRow("qwen3-4b", "resrl", "alfworld", "success", 1, 0.1, 0.0, 0.2, 12)], tmp_path / "math.csv"
    )
    ours = compare.load_tagged([f"table3:alfworld={alf}", f"table1:math={maths}"])
    ref = pd.DataFrame([_ref_row("table3", "unspecified", "ResRL", "alfworld", "success", 86.7)])
    out = compare.compare(ref, ours)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["domain"] == "alfworld" and row["ours_model"] == "qwen3-4b"
    assert row["reproduced"] == pytest.approx(80.0) and row["delta"] == pytest.approx(80.0 - 86.7)


def test_reported_baselines_are_marked_never_ours(tmp_path):
    from paper_figures import table3

    ref_path = tmp_path / "ref.csv"
    pd.DataFrame(
        [
            _ref_row("table3", "unspecified", "PPO", "alfworld", "success", 80.4),
            _ref_row("table3", "unspecified", "EMPG", "alfworld", "success", 78.5),
        ]
    ).to_csv(ref_path, index=False)
    ours = write_metrics(
        [MetricRow("qwen3-4b", "resrl", "alfworld", "success", 1, 0.5, 0.4, 0.6, 4)], tmp_path / "ours.csv"
    )
    out = tmp_path / "t3"
    from paper_figures.cli import table_main

    table_main(
        "table3",
        "Table 3",
        "tab:agents",
        table3.columns,
        ["--metrics", str(ours), "--out", str(out), "--reference", str(ref_path), "--reported", "PPO"],
    )
    md = (tmp_path / "t3.md").read_text()
    assert "| paper | PPO (reported) |" in md and "80.4" in md
    assert "EMPG" not in md  # only the baselines named as reported
    assert "| qwen3-4b | ResRL |" in md
