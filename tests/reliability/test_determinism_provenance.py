"""Same seed and config -> identical samples, metrics and weights on CPU (training: test_trainer.py's
test_same_seed_gives_identical_training and the resume tests); a resumed evaluation draws the same samples as an
uninterrupted one; every run directory records its config, git commit, package versions and seed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import torch

from resrl.paths import REPO_ROOT


def _git_head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _check_provenance(info: dict, config: dict, seed: int) -> None:
    assert info["config"] == config
    assert info["seed"] == seed
    assert info["git_commit"].split("-")[0] == _git_head()  # "-dirty" when the work tree has changes
    assert (
        info["packages"]["torch"] == torch.__version__.split("+")[0]
        or info["packages"]["torch"] == torch.__version__
    )
    assert info["packages"]["transformers"] and info["python"] and info["created_utc"]


def test_training_run_records_config_commit_versions_and_seed(tmp_path):
    from resrl.train import build_trainer

    config = {
        "method": {"name": "resrl", "rank": 4},
        "model": "tiny-qwen3",
        "task": {"name": "arith", "level": 1, "seed": 0, "train_size": 50, "test_size": 10},
        "trainer": {
            "steps": 1,
            "prompts_per_step": 1,
            "n": 2,
            "mini_batch_prompts": 1,
            "max_new_tokens": 4,
            "max_prompt_tokens": 512,
            "eval_problems": 1,
            "eval_n": 1,
            "seed": 11,
        },
        "output_dir": str(tmp_path / "run"),
    }
    trainer = build_trainer(config)
    info = json.loads((tmp_path / "run" / "run_config.json").read_text())
    _check_provenance(info, config, seed=11)
    trainer.train_step()
    state = torch.load(trainer.save() / "state.pt", weights_only=False)
    assert state["run_config"] == config and state["step"] == 1  # the checkpoint carries it too
    assert set(state["rng"]) == {"torch", "python", "numpy"}


def _eval_cfg(results: Path, **kw):
    from evaluators.math.config import GraderConfig, MathEvalConfig

    base = dict(
        checkpoint="tiny-qwen3",
        benchmarks=["arith"],
        limit=4,
        n=3,
        max_new_tokens=6,
        problems_per_chunk=1,
        temperature=1.0,
        engine="hf",
        device="cpu",
        n_boot=50,
        results_dir=str(results),
        grader=GraderConfig(timeout_s=2.0, workers=1),
    )
    base.update(kw)
    return MathEvalConfig(**base)


def _samples(out) -> dict[tuple, dict]:
    from evaluators.common import read_jsonl

    return {(r["problem_id"], r["sample_index"]): r for r in read_jsonl(out["samples_dir"] / "arith.jsonl")}


def test_evaluation_same_seed_same_samples_and_resume_draws_the_same(tmp_path, monkeypatch):
    import evaluators.math.run as run_mod

    a = run_mod.run(_eval_cfg(tmp_path / "a"))
    b = run_mod.run(_eval_cfg(tmp_path / "b"))
    assert (a["samples_dir"] / "arith.jsonl").read_bytes() == (b["samples_dir"] / "arith.jsonl").read_bytes()
    assert Path(a["metrics_path"]).read_bytes() == Path(b["metrics_path"]).read_bytes()
    info = json.loads(Path(a["info_path"]).read_text())
    _check_provenance(info, dataclasses.asdict(_eval_cfg(tmp_path / "a")), seed=0)

    # a run that dies after two of its four chunks, then the same command again
    real_generate = run_mod.LazySampler.generate
    calls = []

    def dies_on_third_chunk(self, prompts, n, seed):
        calls.append(seed)
        if len(calls) == 3:
            raise KeyboardInterrupt  # stands for the kill
        return real_generate(self, prompts, n, seed)

    monkeypatch.setattr(run_mod.LazySampler, "generate", dies_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        run_mod.run(_eval_cfg(tmp_path / "c"))
    monkeypatch.undo()
    assert len(_samples({"samples_dir": tmp_path / "c" / "samples" / "base-tiny-qwen3"})) == 2 * 3
    c = run_mod.run(_eval_cfg(tmp_path / "c"))
    assert c["timings"]["new_samples"] == 2 * 3  # only the missing half was drawn ...
    assert _samples(c) == _samples(a)  # ... and it is what the uninterrupted run drew
    assert Path(c["metrics_path"]).read_bytes() == Path(a["metrics_path"]).read_bytes()

    other = run_mod.run(_eval_cfg(tmp_path / "d", seed=1))  # the seed matters
    assert [r["text"] for r in _samples(other).values()] != [r["text"] for r in _samples(a).values()]
