"""One formatter configuration for the whole tree (``[tool.ruff]`` in pyproject.toml): the code is formatted and
lint-clean as ``make lint`` checks it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from resrl.paths import REPO_ROOT

TREES = ["resrl", "evaluators", "tests", "paper_figures", "benchmarks"]


@pytest.mark.parametrize("args", [["format", "--check"], ["check"]], ids=["format", "lint"])
def test_the_tree_passes_ruff(args):
    out = subprocess.run(
        [sys.executable, "-m", "ruff", *args, *TREES],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
