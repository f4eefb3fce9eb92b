"""The DAG's first job (python -m resrl.preflight): placeholders and missing training data, named before any
training; the profiles that ship their data pass."""

from __future__ import annotations

import subprocess
import sys

from resrl.paths import REPO_ROOT
from resrl.preflight import placeholders

PROFILES = REPO_ROOT / "experiments" / "profile"


def test_placeholders_are_named_with_their_field():
    found = list(
        placeholders({"domains": {"a": {"agents": {"env_overrides": {"x": ["data_dir=/path/to/data"]}}}}})
    )
    assert found == [
        "domains.a.agents.env_overrides.x[0]: 'data_dir=/path/to/data' is a placeholder; edit it for your cluster"
    ]
    assert not list(placeholders({"a": ["data_dir=/data/alfworld", 3, None]}))


def _preflight(profile: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "resrl.preflight", "--profile", str(PROFILES / f"{profile}.yaml")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_paper_profile_lists_every_missing_piece_in_one_line_each():
    proc = _preflight("paper")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("error: ")]
    text = "\n".join(errors)
    assert (
        "domains.alfworld.agents.env_overrides.alfworld[0]: 'data_dir=/path/to/alfworld_data' is a placeholder"
        in text
    )
    assert (
        "domains.code.task=deepcoder: task 'deepcoder': no data at" in text
        and "huggingface-cli download" in text
    )
    assert "domains.tools.task=toolrl" in text and "git clone https://github.com/qiancheng0/ToolRL" in text
    assert "domains.webshop.task=webshop" in text


def test_profiles_with_shipped_data_pass():
    for profile in ("tiny", "ci", "smoke", "domains-tiny"):
        proc = _preflight(profile)
        assert proc.returncode == 0, (profile, proc.stderr)
