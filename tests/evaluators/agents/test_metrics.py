"""Metrics rows: names as paper_figures/table3.py reads them, values hand-computed."""

import math

import pytest

from evaluators.agents.metrics import agent_metric_rows
from paper_figures.table3 import columns


def _rec(pid, task_type, success, rep=0, score=None):
    return {
        "problem_id": pid,
        "sample_index": rep,
        "task_type": task_type,
        "success": success,
        "score": success if score is None else score,
    }


def test_alfworld_rows_overall_and_per_type():
    records = [
        _rec("g1", "pick_and_place_simple", 1.0),
        _rec("g2", "pick_and_place_simple", 0.0),
        _rec("g3", "pick_two_obj_and_place", 1.0),
        _rec("g4", "look_at_obj_in_light", 0.0),
    ]
    rows = {r.benchmark: r for r in agent_metric_rows("alfworld", records, "m", "base", n_boot=200)}
    assert list(rows) == ["alfworld", "alfworld_pick", "alfworld_look", "alfworld_pick2"]
    assert rows["alfworld"].value == 0.5 and rows["alfworld_pick"].value == 0.5
    assert rows["alfworld_pick2"].value == 1.0 and rows["alfworld_look"].value == 0.0
    assert all(r.metric == "success" and r.k == 1 and r.n_samples == 1 for r in rows.values())
    assert rows["alfworld"].ci_low <= 0.5 <= rows["alfworld"].ci_high
    # every ALFWorld column of Table 3 reads one of these (benchmark, metric) pairs
    wanted = {(c.benchmark, c.metric) for c in columns(None) if c.benchmark.startswith("alfworld")}
    assert {(b, "success") for b in rows} <= wanted


def test_repeats_average_within_a_game_first():
    records = [
        _rec("g1", "pick_and_place_simple", 1.0, 0),
        _rec("g1", "pick_and_place_simple", 0.0, 1),
        _rec("g2", "pick_and_place_simple", 1.0, 0),
        _rec("g2", "pick_and_place_simple", 1.0, 1),
    ]
    row = agent_metric_rows("alfworld", records, "m", "base")[0]
    assert row.value == pytest.approx(0.75) and row.n_samples == 2


def test_webshop_rows():
    records = [_rec("webshop/test/0", None, 1.0, score=1.0), _rec("webshop/test/1", None, 0.0, score=0.5)]
    rows = agent_metric_rows("webshop", records, "m", "grpo")
    assert [(r.benchmark, r.metric, r.value) for r in rows] == [
        ("webshop", "score", 0.75),
        ("webshop", "success", 0.5),
    ]
    wanted = {(c.benchmark, c.metric) for c in columns(None) if c.benchmark == "webshop"}
    assert {(r.benchmark, r.metric) for r in rows} == wanted
    assert all(not math.isnan(r.ci_low) for r in rows)


def test_bad_inputs():
    with pytest.raises(ValueError, match="no alfworld episodes"):
        agent_metric_rows("alfworld", [], "m", "base")
    with pytest.raises(ValueError, match="unknown ALFWorld task type"):
        agent_metric_rows("alfworld", [_rec("g", None, 1.0)], "m", "base")
    with pytest.raises(ValueError, match="no metrics for env 'babyai'"):
        agent_metric_rows("babyai", [_rec("g", None, 1.0)], "m", "base")
