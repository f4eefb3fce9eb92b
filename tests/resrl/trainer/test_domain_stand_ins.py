"""Each domain's CPU stand-in trains end to end (slow): the task's loader, its reward (the code sandbox for
DeepCoder, ToolRL's scorer, ALFWorld-format episodes), the local trainer and its records, on a random tiny Qwen3."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from resrl.paths import REPO_ROOT

STAND_INS = [
    pytest.param("deepcoder_tiny", [], id="code"),
    pytest.param("toolrl_tiny", [], id="tools"),
    pytest.param(
        "alfworld_tiny",
        ["task.max_turns=2", "task.max_total_tokens=1024"],
        id="agents",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("alfworld") is None,
            reason="alfworld is not installed (make venv installs it)",
        ),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("task, extra", STAND_INS)
def test_stand_in_trains_end_to_end(tmp_path, task, extra):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "resrl.train",
        "method=resrl",
        "model=tiny-qwen3",
        f"task={task}",
        "trainer=test",
        "trainer.steps=1",
        "trainer.prompts_per_step=2",
        "trainer.n=2",
        "trainer.mini_batch_prompts=1",
        "trainer.max_new_tokens=8",
        "trainer.eval_problems=1",
        "trainer.eval_n=1",
        f"output_dir={out}",
        *extra,
    ]
    env = {**os.environ, "RESRL_SANDBOX_FALLBACK": "allow", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps and steps[-1]["step"] == 1
    assert (out / "final_model" / "config.json").is_file()
