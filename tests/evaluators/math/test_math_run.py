"""The evaluation pipeline with a scripted sampler: resume without duplicates, metrics file, run info, CLI config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import evaluators.math.run as run_mod
from evaluators.common import read_jsonl, read_metrics
from evaluators.common.policy import model_spec
from evaluators.common.run import format_table, open_run
from evaluators.math.benchmarks import MathProblem, load_benchmark
from evaluators.math.config import GraderConfig, MathEvalConfig
from evaluators.math.grading_pool import GradingPool
from evaluators.math.prompting import DEFAULT_INSTRUCTION, PromptConfig, build_messages
from resrl.rollout.base import Rollout


class ScriptedSampler:
    """Answers problem p's sample s correctly iff ``s < right[p]``; can crash after some generate calls."""

    def __init__(self, cfg, right: dict[str, int], crash_after: int | None = None):
        self.cfg = cfg
        self.right = right
        self.crash_after = crash_after
        self.calls: list[tuple[list[str], int]] = []
        self.engine, self.device, self.load_seconds = "scripted", "cpu", 0.0
        self._answers: dict[str, str] = {}
        self._next: dict[str, int] = {}

    def prompt(self, problem: MathProblem) -> str:
        self._answers[problem.id] = problem.answer
        return problem.id

    def generate(self, prompts, n, seed):
        if self.crash_after is not None and len(self.calls) >= self.crash_after:
            raise RuntimeError("simulated crash")
        self.calls.append((list(prompts), n))
        out = []
        for i, pid in enumerate(prompts):
            for s in range(n):
                idx = self._next.get(pid, 0)
                self._next[pid] = idx + 1
                ans = self._answers[pid] if idx < self.right[pid] else "-12345"
                out.append(Rollout(i, s, [1], [1, 2, 3], f"Thinking... \\boxed{{{ans}}}"))
        return out


def _problems(k=3):
    return load_benchmark("amc23", limit=k)


def test_resume_after_crash_writes_no_duplicates(tmp_path):
    from evaluators.common import SampleStore

    problems = _problems(3)
    cfg = MathEvalConfig(benchmarks=["amc23"], n=4, problems_per_chunk=1, limit=3)
    right = {p.id: 2 for p in problems}
    store_path = tmp_path / "amc23.jsonl"
    with GradingPool(workers=1) as pool:
        crashing = ScriptedSampler(cfg, right, crash_after=2)
        with pytest.raises(RuntimeError, match="simulated crash"):
            run_mod.sample_benchmark(cfg, "amc23", problems, SampleStore(store_path), crashing, pool, "m")
        assert len(list(read_jsonl(store_path))) == 8  # two problems x 4 samples were stored
        # a crash in the middle of a write leaves a cut line: it must be dropped on reopen
        with store_path.open("a") as f:
            f.write('{"problem_id": "amc23-2", "sample_in')
        again = ScriptedSampler(cfg, right)
        store = SampleStore(store_path)
        assert store.dropped_partial_line
        assert run_mod.sample_benchmark(cfg, "amc23", problems, store, again, pool, "m") == 4
        assert again.calls == [(["amc23-2"], 4)]  # only the missing problem was sampled
        # a third run samples nothing
        third = ScriptedSampler(cfg, right)
        assert (
            run_mod.sample_benchmark(cfg, "amc23", problems, SampleStore(store_path), third, pool, "m") == 0
        )
        assert third.calls == []
    keys = [(r["problem_id"], r["sample_index"]) for r in read_jsonl(store_path)]
    assert len(keys) == len(set(keys)) == 12
    assert sorted(keys) == sorted((p.id, s) for p in problems for s in range(4))


def test_partial_problem_samples_only_missing_indices(tmp_path):
    from evaluators.common import SampleStore

    problems = _problems(1)
    pid = problems[0].id
    store = SampleStore(tmp_path / "s.jsonl")
    store.append([{"problem_id": pid, "sample_index": 1, "correct": True, "text": "\\boxed{27}"}])
    cfg = MathEvalConfig(benchmarks=["amc23"], n=3)
    sampler = ScriptedSampler(cfg, {pid: 3})
    with GradingPool(workers=1) as pool:
        assert run_mod.sample_benchmark(cfg, "amc23", problems, store, sampler, pool, "m") == 2
    assert sampler.calls == [([pid], 2)]
    assert sorted(i for _, i in store.done_keys()) == [0, 1, 2]


def _scripted_run(tmp_path, monkeypatch, **cfg):
    """An amc23 run of 4 problems x 4 samples, problem i answered right in [0, 1, 2, 4] of its samples."""
    problems = _problems(4)
    right = dict(zip([p.id for p in problems], [0, 1, 2, 4], strict=True))
    monkeypatch.setattr(run_mod, "LazySampler", lambda cfg: ScriptedSampler(cfg, right))
    settings = dict(checkpoint="smollm2-135m", method="grpo", benchmarks=["amc23"], limit=4, n=4, n_boot=100)
    return run_mod.run(
        MathEvalConfig(
            **(settings | cfg), results_dir=str(tmp_path), grader=GraderConfig(timeout_s=5.0, workers=1)
        )
    )


def test_run_writes_metrics_samples_and_info(tmp_path, monkeypatch):
    out = _scripted_run(tmp_path, monkeypatch)
    df = read_metrics(out["metrics_path"])
    assert Path(out["metrics_path"]) == tmp_path / "metrics" / "grpo-smollm2-135m" / "metrics.csv"
    got = {(r.metric, r.k): r.value for r in df.itertuples()}
    assert got[("avg@k", 4)] == pytest.approx((0 + 0.25 + 0.5 + 1.0) / 4)
    # pass@2 per problem: c=0 -> 0, c=1 -> 1/2, c=2 -> 5/6, c=4 -> 1
    assert got[("pass@k", 2)] == pytest.approx((0 + 0.5 + 5 / 6 + 1) / 4)
    assert set(df["model"]) == {"smollm2-135m"} and set(df["method"]) == {"grpo"}
    samples = list(read_jsonl(tmp_path / "samples" / "grpo-smollm2-135m" / "amc23.jsonl"))
    assert len(samples) == 16
    assert {"text", "num_tokens", "extracted_answer", "correct"} <= set(samples[0])
    info = json.loads(Path(out["info_path"]).read_text())
    assert info["config"]["n"] == 4 and info["seed"] == 0 and "packages" in info
    table = format_table(out["rows"])
    assert "amc23" in table and "pass@4" in table


def test_prompt_is_problem_then_instruction():
    boxed = PromptConfig(name="boxed", instruction=DEFAULT_INSTRUCTION, template="{problem}\n\n{instruction}")
    msgs = build_messages("  What is 1+1?  ", boxed)
    assert msgs == [{"role": "user", "content": f"What is 1+1?\n\n{DEFAULT_INSTRUCTION}"}]


def test_default_prompt_is_dapos_answer_line_wrapper():
    """The release trains on DAPO-Math's wrapper and evaluates FlowRL's test sets, which carry the same wrapper
    (the local AIME24 copy of DAPO's data has it verbatim)."""
    msgs = build_messages("What is 1+1?")
    assert msgs == [
        {
            "role": "user",
            "content": (
                "Solve the following math problem step by step. The last line of your response should be of the form "
                "Answer: $Answer (without quotes) where $Answer is the answer to the problem.\n\nWhat is 1+1?\n\n"
                'Remember to put your answer on its own line after "Answer:".'
            ),
        }
    ]
    sys_msgs = build_messages("Q", PromptConfig(system="Be brief."))
    assert sys_msgs[0] == {"role": "system", "content": "Be brief."}
    with pytest.raises(ValueError, match="problem"):
        PromptConfig(template="no placeholder")


def test_config_composes_and_validates():
    from evaluators.math.__main__ import CLI
    from resrl.cli_errors import UsageError

    cfg = CLI.compose(["checkpoint=x", "benchmarks=[aime24,OlympiadBench]", "n=16"])
    assert cfg.benchmarks == ["aime24", "olympiad"] and cfg.n == 16
    assert cfg.temperature == 0.6 and cfg.max_new_tokens == 8192 and cfg.prompt.enable_thinking is False
    assert [CLI.compose([], name).n for name in ("math_paper", "math_passk", "math_smoke")] == [16, 128, 2]
    with pytest.raises(UsageError, match="nope"):
        CLI.compose(["+nope=1"])
    with pytest.raises(Exception, match="valid"):
        CLI.compose(["benchmarks=[gsm8k]"])


def test_checkpoint_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        model_spec(MathEvalConfig(checkpoint=str(tmp_path)))
    with pytest.raises(FileNotFoundError, match="not found"):
        model_spec(MathEvalConfig(checkpoint="./no/such/folder"))


def test_samples_from_other_settings_are_not_mixed(tmp_path):
    def guard(**kw):
        cfg = MathEvalConfig(benchmarks=["amc23"], results_dir=str(tmp_path), run_name="r", **kw)
        return run_mod._guard(cfg, open_run(cfg))

    guard(max_new_tokens=256)
    (tmp_path / "samples" / "r" / "amc23.jsonl").write_text('{"problem_id": "amc23-0", "sample_index": 0}\n')
    guard(max_new_tokens=256, n=4)  # n is not a sampling setting: more samples of the same kind
    with pytest.raises(ValueError, match="max_new_tokens"):
        guard(max_new_tokens=512)


def test_run_writes_each_problems_scores_and_its_seed(tmp_path, monkeypatch):
    """metrics.problems.csv beside the metrics: one row per (benchmark, metric, k, problem), hand-computed; every
    metrics row and score row carries the run's seed."""
    import pandas as pd

    out = _scripted_run(tmp_path, monkeypatch, seed=7)
    assert set(read_metrics(out["metrics_path"])["seed"]) == {7}
    scores = pd.read_csv(Path(out["metrics_path"]).with_name("metrics.problems.csv"))
    assert set(scores["seed"]) == {7} and set(scores["method"]) == {"grpo"}
    avg = scores[scores["metric"] == "avg@k"].sort_values("problem")
    assert avg["k"].tolist() == [4] * 4 and avg["value"].tolist() == pytest.approx([0, 0.25, 0.5, 1.0])
    pass2 = scores[(scores["metric"] == "pass@k") & (scores["k"] == 2)].sort_values("problem")
    assert pass2["value"].tolist() == pytest.approx([0, 0.5, 5 / 6, 1])
