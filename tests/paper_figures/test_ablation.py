"""An ablation's own table (paper_figures/ablation.py): numeric order, the default marked, intervals shown."""

from __future__ import annotations

import pytest

from evaluators.common.schema import MetricRow, write_metrics
from paper_figures.ablation import _numbers, main


def test_values_parse_with_minus_signs_and_lists():
    assert _numbers("8") == (8.0,) and _numbers("-2") == (-2.0,) and _numbers("0.1-0.9") == (0.1, 0.9)
    assert _numbers("-1-0.5") == (-1.0, 0.5)


def test_table_sorts_numerically_and_marks_the_default(tmp_path):
    points = []
    for value, acc in (("128", 0.30), ("16", 0.20), ("64", 0.40), ("8", 0.10)):
        path = write_metrics(
            [MetricRow("m", "resrl", "arith", "avg@k", 8, acc, acc - 0.05, acc + 0.05, 48)],
            tmp_path / f"{value}.csv",
        )
        points.append(f"m/{value}={path}")
    main(["--factor", "rank", "--default", "64", "--point", *points, "--out", str(tmp_path / "abl")])
    md = (tmp_path / "abl.md").read_text()
    rows = [ln for ln in md.splitlines() if ln.startswith("| m |")]
    assert [r.split("|")[2].strip() for r in rows] == ["8", "16", "64 (default)", "128"]  # not text order
    assert "40.0 ± 5.0" in rows[2]
    assert (tmp_path / "abl.tex").read_text().startswith("\\begin{tabular}")


def test_figure_and_table_mean_over_the_seeds_of_each_value(tmp_path):
    from paper_figures.ablation import load_points, point_values

    points = {}
    for value, accs in (("0.0", (0.2, 0.4)), ("0.1", (0.5, 0.5))):
        files = []
        for seed, acc in enumerate(accs):
            files.append(
                str(
                    write_metrics(
                        [
                            MetricRow(
                                "m", "resrl", "arith", "avg@k", 8, acc, acc - 0.1, acc + 0.1, 8, seed=seed
                            )
                        ],
                        tmp_path / f"{value}-s{seed}.csv",
                    )
                )
            )
        points[f"m/{value}"] = ",".join(files)
    data = point_values(load_points(points)).set_index("value")
    assert (
        data.loc["0.0", "mean"] == pytest.approx(0.3) and data.loc["0.1", "mean"] == 0.5
    )  # mean of the seeds
    assert 0.2 <= data.loc["0.0", "low"] <= 0.3 <= data.loc["0.0", "high"] <= 0.4  # interval over the seeds
    main(
        [
            "--factor",
            "min_weight",
            "--default",
            "0.1",
            "--point",
            *(f"{k}={v}" for k, v in points.items()),
            "--out",
            str(tmp_path / "abl"),
        ]
    )
    assert (tmp_path / "abl.png").stat().st_size > 1000 and (tmp_path / "abl.pdf").exists()
    assert "30.0 ±" in (tmp_path / "abl.md").read_text()


def test_each_value_minus_the_default_is_paired_over_the_same_problems(tmp_path):
    """Per-problem scores beside each seed's metrics: the table adds ``<benchmark> minus default``, the mean of the
    value's scores minus the default's over the same problems (hand-computed: 37.5% - 62.5% = -25 points)."""
    import pandas as pd

    from evaluators.common.run import PROBLEM_COLUMNS, problems_path

    scores = {  # value -> per seed, the scores of problems 0..3
        "0.1": ([1, 0, 1, 0], [1, 1, 1, 0]),  # default: 50% and 75%
        "0.0": ([0, 0, 1, 0], [0, 1, 1, 0]),  # 25% and 50%
    }
    points = []
    for value, seeds in scores.items():
        method = "resrl" if value == "0.1" else f"resrl-min_weight{value}"
        files = []
        for seed, row in enumerate(seeds):
            acc = sum(row) / len(row)
            path = write_metrics(
                [MetricRow("m", method, "arith", "avg@k", 4, acc, 0.0, 1.0, 4, seed=seed)],
                tmp_path / f"{value}-s{seed}.csv",
            )
            pd.DataFrame(
                [("m", method, seed, "arith", "avg@k", 4, p, v) for p, v in enumerate(row)],
                columns=list(PROBLEM_COLUMNS),
            ).to_csv(problems_path(path), index=False)
            files.append(str(path))
        points.append(f"m/{value}=" + ",".join(files))
    main(["--factor", "min_weight", "--default", "0.1", "--point", *points, "--out", str(tmp_path / "abl")])
    md = (tmp_path / "abl.md").read_text()
    assert "| Model | min_weight | arith | arith minus default |" in md
    rows = {ln.split("|")[2].strip(): ln.split("|")[3:5] for ln in md.splitlines() if ln.startswith("| m |")}
    assert rows["0.1 (default)"][1].strip() == "—"
    assert rows["0.0"][0].strip().startswith("37.5 ±")
    diff = rows["0.0"][1].strip()
    assert diff.startswith("-25.0 [")
    low, high = (float(x) for x in diff[diff.index("[") + 1 : -1].split(","))
    assert low <= -25.0 <= high and low >= -100.0
