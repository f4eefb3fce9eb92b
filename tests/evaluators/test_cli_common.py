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
        "valid: aime24, aime25, amc23, arith, math500, minerva, olympiad",
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
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from evaluators.agents.__main__ import compose as agents
    from evaluators.bfcl.__main__ import compose as bfcl
    from evaluators.code.__main__ import compose as code
    from evaluators.code.__main__ import compose_all as code_all
    from evaluators.math.__main__ import CONFIG_DIR, to_config
    from resrl.cli_errors import check_overrides

    folder = tmp_path / "final_model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    for compose in (code, agents, bfcl):
        by_name = compose(["model=tiny-qwen3"])
        assert by_name.model["name"] == "tiny-qwen3" and by_name.checkpoint is None
        assert compose(["checkpoint=tiny-qwen3"]).model["name"] == "tiny-qwen3"  # old spelling: a name
        assert compose([f"model={folder}"]).checkpoint == str(folder)  # a folder given as model=
        assert compose([f"checkpoint={folder}"]).checkpoint == str(folder)

    def math(overrides):
        overrides = check_overrides(CONFIG_DIR, "math_eval", overrides)
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
            return to_config(hydra_compose("math_eval", overrides=overrides))

    assert math(["model=tiny-qwen3"]).source == "tiny-qwen3"
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
    assert [
        c.env
        for c in __import__("evaluators.agents.__main__", fromlist=["x"]).compose_all(
            ["envs=[alfworld,textworld]", "model=tiny-qwen3"]
        )
    ] == ["alfworld", "textworld"]
