"""The vLLM signature snapshot (vllm_api.json) is the pinned vLLM's: same version as the cluster lock, and, when
an interpreter with vLLM's API is available (``make vllm-api-venv`` builds .venv-vllm-api/; or set
``RESRL_VLLM_API_PYTHON``), identical to what that wheel reports today."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT

SNAPSHOT = Path(__file__).parent / "vllm_api.json"
LOCKS = sorted((REPO_ROOT / "cluster").glob("requirements-*.txt"))


def _api_python() -> Path | None:
    env = os.environ.get("RESRL_VLLM_API_PYTHON")
    path = Path(env) if env else REPO_ROOT / ".venv-vllm-api" / "bin" / "python"
    return path if path.exists() else None


def test_snapshot_is_of_the_locked_vllm():
    version = json.loads(SNAPSHOT.read_text())["vllm_version"]
    assert LOCKS, "no cluster lock file under cluster/"
    for lock in LOCKS:
        pinned = re.findall(r"^vllm==([^\s;]+)", lock.read_text(), flags=re.M)
        assert pinned == [version], f"{lock.name} pins vllm {pinned}, the signature snapshot is of {version}"


@pytest.mark.skipif(
    _api_python() is None, reason="no vLLM API interpreter (make vllm-api-venv, or RESRL_VLLM_API_PYTHON)"
)
def test_snapshot_matches_the_installed_wheel(tmp_path):
    target = tmp_path / "api.json"  # a file, not stdout: importing vllm logs to stdout
    out = subprocess.run(
        [str(_api_python()), str(REPO_ROOT / "scripts" / "snapshot_vllm_api.py"), str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(target.read_text()) == json.loads(SNAPSHOT.read_text()), (
        "vLLM's API changed: rerun scripts/snapshot_vllm_api.py and check the project's calls"
    )
