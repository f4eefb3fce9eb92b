"""Pathological model output (empty, 100k characters, thousands of unclosed or nested boxes, non-UTF-8 bytes,
control characters) and prompts longer than the context: graded (wrong, or right when the answer is there),
stored and counted, through the trainer's reward path and the evaluators' grading paths; never a crash or a hang
(``pytest-timeout`` guards every test here)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml

from resrl.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(300)

#: Responses without a right final answer (the reference answer is never "" or a box of these).
WRONG = {
    "empty": "",
    "100k_chars": "x" * 100_000,
    "15k_unclosed_boxes": "\\boxed{" * 15_000,  # 105k characters; once quadratic in the answer extractor
    "deep_latex": "\\boxed{" + "\\frac{1}{" * 3000 + "2" + "}" * 3000 + "}",
    "invalid_utf8": b"\xff\xfe\x80 \\boxed{\xc3\x28} \xed\xa0\x80".decode("utf-8", errors="replace"),
    "control_chars": "\x00\x1b[2J\r\\boxed{\x00}\x07",
}


def right(answer: str) -> dict[str, str]:
    """Huge responses whose final answer is right: graded right, not cut or skipped."""
    return {
        "answer_after_100k_junk": "a" * 100_000 + f" so \\boxed{{{answer}}}",
        "answer_boxed_10k_times": f"\\boxed{{{answer}}} " * 10_000,
    }


def test_extract_and_grade_pathological_responses():
    from evaluators.math.grader import is_correct

    for name, text in WRONG.items():
        assert is_correct(text, "7", timeout_s=2.0) is False, name
    for name, text in right("7").items():
        assert is_correct(text, "7", timeout_s=2.0) is True, name


# ------------------------------------------------------------------------------------------------ training
def test_trainer_step_grades_pathological_responses(tmp_path):
    """One real training step on tiny-qwen3 and the arith task whose 8 responses are replaced by pathological
    texts: 2 of 8 carry the right answer, so the step's pass rate is 0.25 and every reward was computed."""
    import resrl.methods as methods
    from resrl.tasks import make_task
    from resrl.trainer.config import TrainerConfig
    from resrl.trainer.loop import Trainer

    task = make_task(yaml.safe_load((REPO_ROOT / "experiments" / "task" / "arith.yaml").read_text()))
    cfg = TrainerConfig(
        steps=1,
        prompts_per_step=2,
        n=4,
        mini_batch_prompts=1,
        lr=1e-3,
        warmup_steps=0,
        max_new_tokens=4,
        max_prompt_tokens=512,
        save_every=1,
        eval_problems=1,
        eval_n=1,
    )
    trainer = Trainer(methods.build("nsr"), "tiny-qwen3", task, cfg, tmp_path)
    answer_of = {
        tuple(trainer.source.prompt_ids(task.get("train", i))): task.get("train", i).answer for i in range(2)
    }
    real_generate = trainer.sampler.generate_from_ids  # the trainer samples from token ids

    def pathological_generate(prompts, params):
        out = real_generate(prompts, params)  # real tokens for the update, pathological texts for the reward
        texts = {
            0: [WRONG["empty"], WRONG["100k_chars"], WRONG["15k_unclosed_boxes"], None],
            1: [WRONG["deep_latex"], WRONG["invalid_utf8"], WRONG["control_chars"], None],
        }
        for r in out:
            text = texts[r.prompt_index][r.sample_index]
            if text is None:  # the last sample of each prompt: a huge response with the right answer
                text = list(right(answer_of[tuple(prompts[r.prompt_index])]).values())[r.prompt_index]
            r.text = text
        return out

    trainer.sampler.generate_from_ids = pathological_generate
    rec = trainer.train_step()
    assert rec["step"] == 1 and rec["pass_rate"] == pytest.approx(2 / 8)
    assert rec["groups"] == 2.0 and rec["grad_norm"] > 0


# ------------------------------------------------------------------------------------------------ math eval
class PathologicalSampler:
    """Sample s of problem p is ``TEXTS[s]`` (with the problem's answer filled into the right ones)."""

    def __init__(self, texts) -> None:
        self.texts = texts
        self._answers: dict[str, str] = {}

    def prompt(self, problem):
        self._answers[problem.id] = problem.answer
        return problem.id

    def generate(self, prompts, n, seed):
        from resrl.rollout.base import Rollout

        return [
            Rollout(i, s, [1], [2] * 3, self.texts(self._answers[pid])[s])
            for i, pid in enumerate(prompts)
            for s in range(n)
        ]


def test_math_evaluator_stores_grades_and_counts_pathological_samples(tmp_path):
    import evaluators.math.run as run_mod
    from evaluators.common import SampleStore
    from evaluators.math.benchmarks import load_benchmark
    from evaluators.math.config import MathEvalConfig
    from evaluators.math.grading_pool import GradingPool

    def texts(answer):
        return list(WRONG.values()) + list(right(answer).values())

    n = len(WRONG) + 2
    problems = load_benchmark("arith", limit=2)
    cfg = MathEvalConfig(benchmarks=["arith"], n=n, problems_per_chunk=2)
    store = SampleStore(tmp_path / "arith.jsonl")
    with GradingPool(workers=1, timeout_s=2.0) as pool:
        written = run_mod.sample_benchmark(
            cfg, "arith", problems, store, PathologicalSampler(texts), pool, "m"
        )
    assert written == 2 * n
    records = SampleStore(tmp_path / "arith.jsonl").records()  # reopened: the file parses back
    table = run_mod.correctness_table(problems, records, n)
    assert table == [[False] * len(WRONG) + [True, True]] * 2
    by_index = {r["sample_index"]: r for r in records if r["problem_id"] == problems[0].id}
    assert by_index[1]["text"] == WRONG["100k_chars"]  # stored whole, not cut
    assert "\ufffd" in by_index[list(WRONG).index("invalid_utf8")]["text"]


def test_prompt_longer_than_the_context_is_not_sampled_but_counted(tmp_path, monkeypatch):
    """End to end through the math evaluator with tiny-qwen3 (context 1024 tokens, byte-level tokenizer): a
    3,000-character problem gets empty answers marked ``prompt_too_long``, graded wrong, counted in run_info."""
    import evaluators.math.run as run_mod
    from evaluators.common import read_jsonl
    from evaluators.math.config import GraderConfig, MathEvalConfig

    rows = [
        {"id": "short", "problem": "What is 1 + 1?", "answer": "2", "source": "test"},
        {"id": "long", "problem": "What is " + "1 + " * 750 + "1?", "answer": "751", "source": "test"},
    ]
    (tmp_path / "data" / "math").mkdir(parents=True)
    (tmp_path / "data" / "math" / "arith.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("RESRL_DATA_DIR", str(tmp_path / "data"))
    cfg = MathEvalConfig(
        checkpoint="tiny-qwen3",
        benchmarks=["arith"],
        n=2,
        max_new_tokens=4,
        engine="hf",
        device="cpu",
        n_boot=20,
        results_dir=str(tmp_path / "res"),
        grader=GraderConfig(timeout_s=2.0, workers=1),
    )
    out = run_mod.run(cfg)
    samples = list(read_jsonl(out["samples_dir"] / "arith.jsonl"))
    assert sorted((r["problem_id"], r["sample_index"]) for r in samples) == [
        ("long", 0),
        ("long", 1),
        ("short", 0),
        ("short", 1),
    ]
    long = [r for r in samples if r["problem_id"] == "long"]
    assert all(r["finish_reason"] == "prompt_too_long" and r["text"] == "" and not r["correct"] for r in long)
    assert all(r["finish_reason"] != "prompt_too_long" for r in samples if r["problem_id"] == "short")
    info = json.loads(out["info_path"].read_text())
    assert info["timings"]["prompts_too_long"] == 1
    avg = {(r.metric, r.k): r for r in out["rows"] if r.benchmark == "arith"}[("avg@k", 2)]
    assert avg.value == pytest.approx(sum(r["correct"] for r in samples) / 4)  # both problems in the mean


def test_generate_within_context_keeps_prompt_order():
    from evaluators.common.context import PROMPT_TOO_LONG, generate_within_context
    from resrl.rollout.base import Rollout, SamplingParams

    class Echo:
        def generate(self, prompts, params):
            return [Rollout(i, s, [0], [1], p) for i, p in enumerate(prompts) for s in range(params.n)]

    class CharTokenizer:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": list(range(len(text)))}

    out, too_long = generate_within_context(
        Echo(), CharTokenizer(), ["ab", "x" * 10, "cd", "y" * 5], SamplingParams(n=2), max_context=5
    )
    assert too_long == 2
    assert [(r.prompt_index, r.sample_index, r.text, r.finish_reason) for r in out] == [
        (0, 0, "ab", "stop"),
        (0, 1, "ab", "stop"),
        (1, 0, "", PROMPT_TOO_LONG),
        (1, 1, "", PROMPT_TOO_LONG),
        (2, 0, "cd", "stop"),
        (2, 1, "cd", "stop"),
        (3, 0, "", PROMPT_TOO_LONG),
        (3, 1, "", PROMPT_TOO_LONG),
    ]


# ------------------------------------------------------------------------------------------------ code eval
def test_code_grader_survives_pathological_responses():
    """The code path: sanitising and sandbox grading of a Codeforces problem never passes or crashes."""
    from evaluators.code import run as code_run
    from evaluators.code.config import CodeBenchmarkConfig

    bench = CodeBenchmarkConfig(name="codeforces")
    task = code_run.load_tasks(bench, limit=1)[0]
    texts = {
        **WRONG,
        "100k_open_parens": "```python\n" + "(" * 100_000 + "\n```",
        "300_nested_ifs": "```python\n"
        + "".join("    " * i + "if 1:\n" for i in range(300))
        + "    " * 300
        + "pass\n```",
        "30k_fences": "```python\n" * 30_000,
    }
    verdicts = code_run._grade_many(list(texts.values()), [task] * len(texts), replace_cfg(bench), None)
    for name, v in zip(texts, verdicts, strict=True):
        assert v["correct"] is False, (name, v)
        assert v["status"] in ("failed", "runtime_error", "syntax_error", "timeout", "memory"), (name, v)


def replace_cfg(bench):
    from evaluators.code.config import CodeEvalConfig

    return replace(CodeEvalConfig(model={"name": "unused", "source": "random"}, workers=2), benchmark=bench)
