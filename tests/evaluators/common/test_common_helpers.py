"""Tests of the shared evaluator helpers: sample store (resume, truncation repair), atomic writers, schema."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from evaluators.common import (
    METRIC_COLUMNS,
    MetricRow,
    SampleStore,
    atomic_write_json,
    read_jsonl,
    read_metrics,
    write_metrics,
    write_provenance,
)


def _rec(pid: str, i: int, **kw) -> dict:
    return {"problem_id": pid, "sample_index": i, "text": f"{pid}-{i}", **kw}


def test_store_append_and_done_keys(tmp_path):
    store = SampleStore(tmp_path / "s.jsonl")
    assert store.done_keys() == set()
    assert store.append([_rec("a", 0), _rec("a", 1)]) == 2
    assert store.done_keys() == {("a", 0), ("a", 1)}
    assert ("a", 1) in store and ("b", 0) not in store
    # duplicates (already stored, and inside the same batch) are skipped
    assert store.append([_rec("a", 1), _rec("b", 0), _rec("b", 0)]) == 1
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert [json.loads(x)["text"] for x in lines] == ["a-0", "a-1", "b-0"]


def test_store_reopen_resumes_without_duplicates(tmp_path):
    p = tmp_path / "s.jsonl"
    SampleStore(p).append([_rec("a", i) for i in range(3)])
    again = SampleStore(p)
    assert len(again) == 3
    assert again.append([_rec("a", i) for i in range(5)]) == 2
    keys = [(r["problem_id"], r["sample_index"]) for r in read_jsonl(p)]
    assert keys == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 4)]


def test_store_drops_unterminated_last_line(tmp_path):
    p = tmp_path / "s.jsonl"
    SampleStore(p).append([_rec("a", 0), _rec("a", 1)])
    with p.open("a") as f:
        f.write('{"problem_id": "a", "sample_index": 2, "te')  # crash mid-write
    store = SampleStore(p)
    assert store.dropped_partial_line
    assert store.done_keys() == {("a", 0), ("a", 1)}
    assert p.read_text().endswith("}\n")
    store.append([_rec("a", 2)])
    assert [r["sample_index"] for r in read_jsonl(p)] == [0, 1, 2]


def test_store_drops_terminated_but_invalid_last_line(tmp_path):
    p = tmp_path / "s.jsonl"
    SampleStore(p).append([_rec("a", 0)])
    with p.open("a") as f:
        f.write('{"problem_id": "a", "samp\n')
    store = SampleStore(p)
    assert store.dropped_partial_line and len(store) == 1
    assert len(p.read_text().splitlines()) == 1


def test_store_rejects_corruption_in_the_middle(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"problem_id": "a", "sample_index": 0}\nnot json\n{"problem_id": "a", "sample_index": 1}\n')
    with pytest.raises(ValueError, match=r"s\.jsonl:2"):
        SampleStore(p)


def test_store_missing_key_field_is_named(tmp_path):
    store = SampleStore(tmp_path / "s.jsonl")
    with pytest.raises(KeyError, match="sample_index"):
        store.append([{"problem_id": "a"}])


def test_atomic_write_json_leaves_no_temp_files(tmp_path):
    p = tmp_path / "sub" / "x.json"
    atomic_write_json(p, {"b": 1, "a": [1, 2]})
    atomic_write_json(p, {"c": 3})
    assert json.loads(p.read_text()) == {"c": 3}
    assert [q.name for q in p.parent.iterdir()] == ["x.json"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_metrics_roundtrip(tmp_path, suffix):
    rows = [
        MetricRow("m", "grpo", "aime24", "avg@k", 16, 0.25, 0.1, 0.4, 16),
        MetricRow("m", "grpo", "macro", "pass@k", 128, 0.5, n_samples=128),
    ]
    p = write_metrics(rows, tmp_path / f"metrics{suffix}")
    df = read_metrics(p)
    assert tuple(df.columns) == METRIC_COLUMNS
    assert df["k"].tolist() == [16, 128]
    assert df["value"].tolist() == [0.25, 0.5]
    assert math.isnan(df["ci_low"].iloc[1])


def test_metrics_bad_suffix_and_bad_row(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv"):
        write_metrics([], tmp_path / "m.txt")
    with pytest.raises(ValueError, match="k must be >= 1"):
        MetricRow("m", "x", "b", "pass@k", 0, 0.0)
    pd.DataFrame({"model": ["x"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="missing metrics columns"):
        read_metrics(tmp_path / "bad.csv")


def test_provenance_has_config_seed_versions(tmp_path):
    p = write_provenance(tmp_path / "run.json", config={"n": 16}, seed=3, note="x")
    info = json.loads(p.read_text())
    assert info["config"] == {"n": 16} and info["seed"] == 3 and info["note"] == "x"
    assert info["packages"]["pandas"] == pd.__version__
