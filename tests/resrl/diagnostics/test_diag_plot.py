"""plot_diagnostics on fixture metrics files."""

import json
import math

import pytest

from resrl.diagnostics.plot import main, plot_diagnostics, read_metrics, series


def _write(path, records, tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def _run(tmp_path, name, offset):
    recs = []
    for step in range(1, 7):
        r = {"step": step, "reward_mean": 0.1 * step}
        if step == 1 or step % 2 == 0:  # diagnostics every 2 steps
            r.update(
                {
                    "diag/lld/frac_groups": 0.5 + offset,
                    "diag/head/cos": -0.1 * step + offset,
                    "diag/div/distinct_2": 0.8 - 0.01 * step,
                    "diag/align/cos": math.nan if step == 2 else 0.3,
                }
            )
        recs.append(r)
    return _write(tmp_path / f"{name}.jsonl", recs, tail='{"step": 7, "diag/head/co')  # truncated last line


def test_series_skips_missing_nan_and_truncated(tmp_path):
    recs = read_metrics(_run(tmp_path, "grpo", 0.0))
    assert len(recs) == 6
    assert series(recs, "diag/head/cos") == (
        [1.0, 2.0, 4.0, 6.0],
        [pytest.approx(-0.1), pytest.approx(-0.2), pytest.approx(-0.4), pytest.approx(-0.6)],
    )
    assert series(recs, "diag/align/cos")[0] == [1.0, 4.0, 6.0]


def test_plot_writes_png_and_pdf(tmp_path):
    runs = {m: _run(tmp_path, m, off) for m, off in (("grpo", 0.0), ("nsr", 0.1), ("resrl", 0.2))}
    files = plot_diagnostics(runs, tmp_path / "fig")
    names = sorted(p.name for p in files)
    assert names == [
        "diagnostics_all.pdf",
        "diagnostics_all.png",
        "diagnostics_summary.pdf",
        "diagnostics_summary.png",
    ]
    for p in files:
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else head.startswith(b"%PDF")
    assert not [p for p in (tmp_path / "fig").iterdir() if p.name.startswith(".")]  # no temp files left


def test_no_diag_keys_is_an_error(tmp_path):
    path = _write(tmp_path / "m.jsonl", [{"step": 1, "reward_mean": 0.0}])
    with pytest.raises(ValueError, match="diagnostics.enabled"):
        plot_diagnostics({"grpo": path}, tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        plot_diagnostics({"grpo": tmp_path / "missing.jsonl"}, tmp_path / "out")


def test_cli(tmp_path, capsys):
    main(["--run", f"grpo={_run(tmp_path, 'grpo', 0.0)}", "--out", str(tmp_path / "cli")])
    assert (tmp_path / "cli" / "diagnostics_all.png").is_file()
    assert "diagnostics_summary.pdf" in capsys.readouterr().out


def test_seed_band_is_the_mean_and_range_over_seeds_step_by_step():
    from resrl.diagnostics.plot import seed_band

    s0 = [{"step": 1, "k": 1.0}, {"step": 2, "k": 3.0}]
    s1 = [{"step": 1, "k": 3.0}, {"step": 2, "k": float("nan")}]  # NaN: that seed did not log step 2
    s2 = [{"step": 1, "k": 8.0}, {"step": 2, "k": 5.0}]
    steps, mean, low, high = seed_band([s0, s1, s2], "k")
    assert steps == [1.0, 2.0]
    assert mean == [4.0, 4.0]  # (1 + 3 + 8) / 3; (3 + 5) / 2
    assert low == [1.0, 3.0] and high == [8.0, 5.0]
    assert seed_band([s0], "k")[1:] == ([1.0, 3.0], [1.0, 3.0], [1.0, 3.0])


def test_parse_runs_reads_one_path_per_seed_and_names_a_bad_item():
    from resrl.diagnostics.plot import parse_runs

    assert parse_runs(["grpo=a/s0.jsonl,a/s1.jsonl", "resrl=b.jsonl"]) == {
        "grpo": ["a/s0.jsonl", "a/s1.jsonl"],
        "resrl": ["b.jsonl"],
    }
    with pytest.raises(ValueError, match="'grpo'"):
        parse_runs(["grpo"])


def test_run_option_takes_items_after_one_flag_or_repeated_flags_and_names_a_bad_item(capsys):
    import argparse

    from resrl.diagnostics.plot import add_run_option

    ap = argparse.ArgumentParser(prog="fig")
    add_run_option(ap)
    assert ap.parse_args(["--run", "grpo=a", "resrl=b,c"]).run == ["grpo=a", "resrl=b,c"]
    assert ap.parse_args(["--run", "grpo=a", "--run", "resrl=b"]).run == ["grpo=a", "resrl=b"]
    with pytest.raises(SystemExit) as stop:
        ap.parse_args(["--run", "grpo=a", "resrl"])
    assert stop.value.code == 2
    assert "'resrl': expected METHOD=PATH" in capsys.readouterr().err


def test_plot_diagnostics_draws_a_band_over_seeds(tmp_path):
    import json

    paths = []
    for seed, v in enumerate([0.1, 0.3]):
        p = tmp_path / f"s{seed}.jsonl"
        p.write_text("\n".join(json.dumps({"step": s, "diag/head/cos": v * s}) for s in (1, 2)) + "\n")
        paths.append(p)
    files = plot_diagnostics({"resrl": paths}, tmp_path / "fig")
    assert {f.name for f in files} >= {"diagnostics_all.png", "diagnostics_summary.png"}


def test_the_subspace_conditioning_gets_its_own_figure(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(
        "".join(
            json.dumps(
                {"step": s, "diag/subspace/energy_at_k": 0.9, "diag/subspace/effective_rank": 20.0 + s}
            )
            + "\n"
            for s in (1, 2)
        )
    )
    names = {f.name for f in plot_diagnostics({"resrl": p}, tmp_path / "out")}
    assert "diagnostics_subspace.png" in names and "diagnostics_summary.png" not in names
