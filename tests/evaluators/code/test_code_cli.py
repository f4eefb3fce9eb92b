"""The code-evaluation CLI and pipeline: config composition, outputs, resume (with a scripted sampler), and one
real SmolLM2 run (slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evaluators.code import run as run_mod
from evaluators.code.__main__ import CLI, main
from evaluators.common.schema import METRIC_COLUMNS
from resrl.rollout.base import Rollout

HE0 = (
    "```python\nfrom typing import List\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```"
)
HE1 = (
    "```python\ndef separate_paren_groups(paren_string):\n    out, cur, depth = [], '', 0\n"
    "    for c in paren_string:\n        if c == ' ':\n            continue\n        cur += c\n"
    "        depth += 1 if c == '(' else -1\n        if depth == 0:\n            out.append(cur)\n            cur = ''\n"
    "    return out\n```"
)
CF0 = "```python\nfor _ in range(int(input())):\n    x, y = map(int, input().split())\n    print(min(x, y), max(x, y))\n```"


class ScriptedSampler:
    """Stands in for LazySampler: sample 0 of every problem is ``answers[problem]``, other samples are wrong."""

    calls = 0

    def __init__(self, cfg, answers=None) -> None:
        self.answers = answers or {}
        self.load_seconds, self.engine, self.device = 0.0, "scripted", "cpu"

    def prompt(self, task):
        return task.id

    def generate(self, prompts, n, seed):
        type(self).calls += 1
        return [
            Rollout(
                p, s, [0], [1, 2], self.answers.get(prompt, "no code") if s == 0 else "```python\nprint(\n```"
            )
            for p, prompt in enumerate(prompts)
            for s in range(n)
        ]


def test_compose_each_code_benchmark():
    for name in ("humaneval_plus", "livecodebench", "codeforces"):
        conf = CLI.compose([f"benchmark={name}", "model=smollm2-135m", "limit=2", "n=4"])
        assert conf.benchmark.name == name and conf.limit == 2 and conf.n == 4
        assert conf.model["name"] == "smollm2-135m" and conf.prompt.enable_thinking is True
    assert CLI.compose(["benchmark=livecodebench", "benchmark.timeout_s=3"]).benchmark.timeout_s == 3
    with pytest.raises(Exception, match="n must be"):
        CLI.compose(["n=0"])


def test_cfg_flag_prints_the_config(capsys):
    main(["--cfg", "benchmark=codeforces"])
    assert "name: codeforces" in capsys.readouterr().out


def test_humaneval_run_writes_tidy_metrics_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv("RESRL_CACHE_DIR", str(tmp_path / "cache"))
    answers = {"HumanEval/0": HE0, "HumanEval/1": HE1}
    monkeypatch.setattr(run_mod, "LazySampler", lambda cfg: ScriptedSampler(cfg, answers))
    ScriptedSampler.calls = 0
    conf = CLI.compose(["benchmark=humaneval_plus", "limit=2", "n=2", "n_boot=50", f"results_dir={tmp_path}"])
    out = run_mod.run(conf)
    df = pd.read_csv(out["metrics_path"])
    assert tuple(df.columns) == METRIC_COLUMNS
    got = {(r.benchmark, r.metric, r.k): r.value for r in df.itertuples()}
    # Per problem: sample 0 right, sample 1 wrong -> Avg@2 = 1/2, Pass@1 = 1/2, Pass@2 = 1.
    for bench in ("humaneval_plus", "humaneval_plus_base"):
        assert (
            got[(bench, "avg@k", 2)] == 0.5
            and got[(bench, "pass@k", 1)] == 0.5
            and got[(bench, "pass@k", 2)] == 1.0
        )
    records = [json.loads(line) for line in open(out["samples_path"])]
    assert len(records) == 4 and {r["status"] for r in records} == {"passed", "syntax_error"}
    assert ScriptedSampler.calls == 1
    info = json.loads(out["info_path"].read_text())
    assert info["sandbox_mode"] in ("namespace", "fallback") and info["timings"]["graded_programs"] == 4
    # Rerun: everything is stored, so nothing is sampled or graded again and the metrics are identical.
    out2 = run_mod.run(conf)
    assert ScriptedSampler.calls == 1 and out2["timings"]["graded_programs"] == 0
    assert pd.read_csv(out2["metrics_path"]).equals(df)
    # A larger n samples only the missing indices.
    out3 = run_mod.run(
        CLI.compose(["benchmark=humaneval_plus", "limit=2", "n=3", "n_boot=50", f"results_dir={tmp_path}"])
    )
    assert ScriptedSampler.calls == 2 and out3["timings"]["graded_programs"] == 2


def test_codeforces_run_reports_elo_and_percentile(tmp_path, monkeypatch):
    monkeypatch.setattr(run_mod, "LazySampler", lambda cfg: ScriptedSampler(cfg, {"1971A": CF0}))
    conf = CLI.compose(["benchmark=codeforces", "limit=3", "n=2", "n_boot=50", f"results_dir={tmp_path}"])
    out = run_mod.run(conf)
    df = pd.read_csv(out["metrics_path"])
    elo = df[df.metric == "elo"].iloc[0]
    pct = df[df.metric == "percentile"].iloc[0]
    report = json.loads((tmp_path / "metrics" / out["run_name"] / "codeforces_elo.json").read_text())
    # (the CSV keeps 6 significant digits)
    assert report["rating"] == pytest.approx(elo.value, abs=0.01) and report["percentile"] == pytest.approx(
        pct.value, abs=1e-4
    )
    assert "maximum-likelihood" in report["method"] and report["n_problems"] == 3
    assert 0 <= elo.ci_low <= elo.value <= elo.ci_high <= 4000 and 0 <= pct.value <= 100
    assert df[(df.metric == "avg@k")].value.iloc[0] == pytest.approx(
        1 / 6, abs=1e-6
    )  # 1 of 3 x 2 samples solved


@pytest.mark.slow
def test_real_smollm2_run_end_to_end(tmp_path, capsys):
    """The newcomer's command on a subset, with the real model (minutes on 2 CPU cores)."""
    main(
        [
            "benchmark=humaneval_plus",
            "model=smollm2-135m",
            "limit=1",
            "n=1",
            "max_new_tokens=64",
            "n_boot=20",
            f"results_dir={tmp_path}",
        ]
    )
    printed = capsys.readouterr().out
    assert "humaneval_plus" in printed and "metrics:" in printed
    rows = pd.read_csv(tmp_path / "metrics" / "base-smollm2-135m" / "humaneval_plus.csv")
    assert set(rows.benchmark) == {"humaneval_plus", "humaneval_plus_base"}
