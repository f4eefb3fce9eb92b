"""The one cluster environment: cluster/requirements.in, its lock cluster/requirements-linux-x86_64-cuda.txt
(scripts/lock_cluster_env.sh) and scripts/setup_cluster_env.sh. The lock must be current, pin one consistent GPU
stack, and satisfy every version floor pyproject.toml declares."""

import hashlib
import re
import subprocess
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS_IN = ROOT / "cluster" / "requirements.in"
LOCK = ROOT / "cluster" / "requirements-linux-x86_64-cuda.txt"
# pyproject extras the cluster environment installs (dev is for this CPU machine's tests only)
CLUSTER_EXTRAS = ("gpu", "verl", "agents", "code", "lmeval", "slurm")
LOCK_PYTHON = "3.11"  # scripts/lock_cluster_env.sh: --python-version 3.11


def locked() -> dict[str, Version]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if m:
            pins[canonicalize_name(m.group(1))] = Version(m.group(2))
    return pins


def requirements_in() -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS_IN.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def pyproject_requirements() -> list[tuple[str, Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [("dependencies", Requirement(r)) for r in project["dependencies"]]
    for extra in CLUSTER_EXTRAS:
        reqs += [(f"extra {extra}", Requirement(r)) for r in project["optional-dependencies"][extra]]
    return reqs


def test_lock_is_current():
    header = LOCK.read_text().splitlines()[0]
    assert (
        header == f"# requirements.in sha256: {hashlib.sha256(REQUIREMENTS_IN.read_bytes()).hexdigest()}"
    ), "cluster/requirements.in changed since the lock was made: run scripts/lock_cluster_env.sh"


def test_lock_pins_one_consistent_gpu_stack():
    pins = locked()
    # verl 0.9.1's `vllm` extra pins exactly these (its METADATA: vllm==0.24.0, torch==2.11.0, torchvision==0.26.0,
    # torchaudio==2.11.0, transformers==5.9.0); veRL itself needs transformers < 5.11
    assert pins["verl"] == Version("0.9.1")
    assert pins["vllm"] == Version("0.24.0")
    assert pins["torch"] == Version("2.11.0") and pins["torchvision"] == Version("0.26.0")
    assert pins["torchaudio"] == Version("2.11.0")
    assert pins["transformers"] == Version("5.9.0")
    # the DAG's submit side and Ray, from the same lock
    for name in (
        "snakemake",
        "snakemake-executor-plugin-slurm",
        "snakemake-executor-plugin-slurm-jobstep",
        "ray",
    ):
        assert name in pins, name
    assert pins["snakemake-executor-plugin-slurm"].major == 2


def test_requirements_in_lists_every_pyproject_requirement():
    # the project goes in with --no-deps on top of the lock, so each of its requirements must be in the lock's input
    listed = {canonicalize_name(r.name): r for r in requirements_in()}
    missing = [
        f"{where}: {req}"
        for where, req in pyproject_requirements()
        if canonicalize_name(req.name) not in listed
    ]
    assert not missing, f"add to cluster/requirements.in and re-lock: {missing}"
    for req in requirements_in():
        # and what it asks for of veRL includes the extras pyproject's `verl` extra asks for
        if req.name == "verl":
            assert {"verl-core", "vllm"} <= req.extras


def test_pyproject_floors_agree_with_the_lock():
    pins = locked()
    bad = []
    for where, req in [*pyproject_requirements(), *(("requirements.in", r) for r in requirements_in())]:
        have = pins.get(canonicalize_name(req.name))
        if have is None or not req.specifier.contains(have, prereleases=True):
            bad.append(f"{where}: {req} vs locked {have}")
        for extra in req.extras:  # verl[verl-core,vllm]: the extra's own pins are locked too (checked above)
            assert extra in ("verl-core", "vllm"), req
    assert not bad, bad
    # the interpreter the lock is for satisfies requires-python
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert Requirement(f"python{requires}").specifier.contains(LOCK_PYTHON + ".0")


def test_vllm_floors_cover_what_the_code_uses():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    # resrl/rollout/vllm_sampler.py passes logprobs_mode to vllm.LLM: an engine argument since vLLM 0.10.0
    # (vllm-project/vllm PR #21398, listed in the v0.10.0 release notes); 0.9.x raises TypeError on it
    assert "logprobs_mode" in (ROOT / "resrl" / "rollout" / "vllm_sampler.py").read_text()
    (vllm,) = [Requirement(r) for r in extras["gpu"] if Requirement(r).name == "vllm"]
    assert not vllm.specifier.contains("0.9.2") and vllm.specifier.contains("0.10.0")
    # the veRL backend sets actor_rollout_ref.rollout.name=vllm: the `verl` extra must bring veRL's vLLM stack
    (verl,) = [Requirement(r) for r in extras["verl"] if Requirement(r).name == "verl"]
    assert "vllm" in verl.extras and verl.specifier.contains("0.9.1")


def test_setup_script_checks_interpreter_platform_and_lock():
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup_cluster_env.sh"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "the lock is for 3.11" in proc.stderr:  # this machine's python3 is 3.11; elsewhere the script refuses
        return
    assert proc.returncode == 0, proc.stderr
    assert "lock current" in proc.stdout and "-e . and bfcl-eval==2026.3.23 with --no-deps" in proc.stdout


def test_cpu_verl_venv_stays_without_vllm():
    # vLLM pulls a CUDA torch: the CPU test venv installs verl[verl-core] directly, not the project's `verl` extra
    code = "\n".join(
        line.split("#", 1)[0] for line in (ROOT / "scripts" / "setup_verl_venv.sh").read_text().splitlines()
    )
    assert '"verl[verl-core]==0.9.1"' in code
    assert "vllm" not in code.lower() and not re.search(r"\.\[[^]]*verl", code)
