"""What the four evaluator command lines share: ``--help`` (fields, defaults, valid values, no docstring markup),
the same argument names (``model=<name>``, ``checkpoint=<folder>``, ``benchmarks=[...]`` with the old spellings as
aliases)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from resrl.paths import REPO_ROOT

HELP_EXPECT = {
    "math": [
        "benchmarks",
        "[aime24,aime25,amc23,math500,minerva,olympiad]",
        "valid: aime24, aime25, amc23, arith, arith2, math500, minerva, olympiad",
        "model ",
        "smollm2-135m",
        "checkpoint",
        "engine",
        "valid: auto, hf, vllm",
        "prompt",
        "valid: arith_1shot, boxed, dapo",
        "grader.timeout_s",
        "overwrite",
        "math_passk",
    ],
    "code": [
        "benchmarks",
        "valid: codeforces, humaneval_plus, livecodebench",
        "model ",
        "smollm2-135m",
        "checkpoint",
        "valid: auto, hf, vllm",
        "benchmark.timeout_s",
        "overwrite",
    ],
    "agents": [
        "env ",
        "valid: alfworld, textworld, webshop",
        "envs",
        "model ",
        "checkpoint",
        "task_types",
        "valid: auto, hf, vllm",
        "overwrite",
    ],
    "bfcl": [
        "subset",
        "valid: all, base, miss_func, miss_param, long_context",
        "call_format",
        "valid: prompt, fc",
        "model ",
        "checkpoint",
        "valid: auto, hf, vllm",
        "overwrite",
    ],
}


@pytest.mark.parametrize("cli", list(HELP_EXPECT))
def test_help_lists_fields_defaults_and_valid_values(cli):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", f"evaluators.{cli}", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"usage: python -m evaluators.{cli}")
    for s in HELP_EXPECT[cli]:
        assert s in out, f"{s!r} not in the help of {cli}:\n{out}"
    assert "``" not in out and not re.search(r":(func|class|mod|meth):", out), out
    assert re.search(r"^  device\s+auto\s+.*valid: auto, cpu, cuda", out, re.M), out
    assert re.search(r"^  n_boot\s+1000\b", out, re.M), out


def test_every_evaluator_takes_model_and_checkpoint(tmp_path):
    from evaluators.agents.__main__ import CLI as AGENTS
    from evaluators.bfcl.__main__ import CLI as BFCL
    from evaluators.code.__main__ import CLI as CODE
    from evaluators.math.__main__ import CLI as MATH

    agents, bfcl, code, code_all, math = (
        AGENTS.compose,
        BFCL.compose,
        CODE.compose,
        CODE.compose_all,
        MATH.compose,
    )

    folder = tmp_path / "final_model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    for compose in (code, agents, bfcl):
        by_name = compose(["model=tiny-qwen3"])
        assert by_name.model["name"] == "tiny-qwen3" and by_name.checkpoint is None
        assert compose(["checkpoint=tiny-qwen3"]).model["name"] == "tiny-qwen3"  # old spelling: a name
        assert compose([f"model={folder}"]).checkpoint == str(folder)  # a folder given as model=
        assert compose([f"checkpoint={folder}"]).checkpoint == str(folder)

    assert math(["model=tiny-qwen3"]).source == "tiny-qwen3"
    assert math([f"model={folder}"]).checkpoint == str(folder)
    assert math(["checkpoint=tiny-qwen3"]).source == "tiny-qwen3"
    assert math([f"checkpoint={folder}", "model=tiny-qwen3"]).source == str(folder)  # checkpoint wins
    assert math(["benchmarks=math500"]).benchmarks == ["math500"]  # a bare value is a one-element list
    assert math(["benchmarks=math500,amc23"]).benchmarks == ["math500", "amc23"]

    assert [c.benchmark.name for c in code_all(["benchmarks=[humaneval_plus,codeforces]"])] == [
        "humaneval_plus",
        "codeforces",
    ]
    assert [c.benchmark.name for c in code_all(["benchmarks=livecodebench", "benchmark.timeout_s=3"])] == [
        "livecodebench"
    ]
    assert code(["benchmark=codeforces"]).benchmark.name == "codeforces"  # the old spelling
    assert code_all(["benchmarks=[livecodebench]", "benchmark.timeout_s=3"])[0].benchmark.timeout_s == 3
    assert [c.env for c in AGENTS.compose_all(["envs=[alfworld,textworld]", "model=tiny-qwen3"])] == [
        "alfworld",
        "textworld",
    ]


def test_every_evaluator_is_one_declared_cli():
    """One CLI entry: each family's ``__main__`` declares an ``EvaluatorCLI`` and its ``main`` is that CLI's."""
    import importlib

    from evaluators.common.cli import EvaluatorCLI
    from evaluators.common.config import EvalConfig

    for family in ("math", "code", "agents", "bfcl"):
        mod = importlib.import_module(f"evaluators.{family}.__main__")
        assert isinstance(mod.CLI, EvaluatorCLI) and mod.main == mod.CLI.main
        assert issubclass(mod.CLI.schema, EvalConfig), family
        assert mod.CLI.prog == f"evaluators.{family}"  # its run(cfg) is evaluators.<family>.run.run


def test_one_model_resolution_for_every_family(tmp_path):
    """``model_spec``/``model_label`` serve all four configs alike; a checkpoint's context is its own."""
    import json

    from evaluators.agents.config import AgentEvalConfig
    from evaluators.bfcl.config import BFCLEvalConfig
    from evaluators.code.config import CodeEvalConfig
    from evaluators.common.policy import model_label, model_spec
    from evaluators.math.config import MathEvalConfig

    folder = tmp_path / "grpo" / "final_model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 40960}))
    for cls in (MathEvalConfig, CodeEvalConfig, AgentEvalConfig, BFCLEvalConfig):
        cfg = cls(checkpoint=str(folder))
        spec = model_spec(cfg)
        assert model_label(cfg) == "grpo-final_model" and spec.hub_id == str(folder.resolve())
        assert spec.max_context == 40960, cls  # not ModelSpec's 4096 default
        assert model_label(cls(checkpoint=str(folder), model_name="mine")) == "mine"
    assert model_spec(MathEvalConfig(model="tiny-qwen3")).name == "tiny-qwen3"
    assert model_spec(CodeEvalConfig(model={"name": "x", "source": "random"})).name == "x"


def test_episode_context_is_the_smaller_of_model_and_config():
    from evaluators.common.policy import LoadedPolicy

    loaded = LoadedPolicy(None, None, "hf", "cpu", max_context=8192, load_seconds=0.0)
    assert loaded.context_budget(type("S", (), {"max_context": 1024})()) == 1024
    assert loaded.context_budget(type("S", (), {"max_context": 32768})()) == 8192
    assert LoadedPolicy(None, None, "hf", "cpu", None, 0.0).context_budget(None) is None
