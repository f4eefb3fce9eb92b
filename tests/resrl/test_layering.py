"""``resrl`` is a library: it never imports the harness (``evaluators``), statically or at import time."""

from __future__ import annotations

import ast
import subprocess
import sys

from resrl.paths import REPO_ROOT


def test_no_module_of_resrl_imports_evaluators():
    offenders = []
    for path in (REPO_ROOT / "resrl").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(REPO_ROOT)}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] == "evaluators"
            ]
    assert not offenders, offenders


def test_importing_the_training_entry_points_loads_no_evaluators_module():
    code = (
        "import sys, resrl.train, resrl.trainer.loop, resrl.diagnostics.step, resrl.tasks, resrl.tasks.rewards, "
        "resrl.backends.verl.launch, resrl.verifiers.math_grader; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'evaluators'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
