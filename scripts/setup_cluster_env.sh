#!/usr/bin/env bash
# Create or refresh .venv-cluster/: the one environment that runs the whole paper DAG on a GPU cluster
# (`make cluster-env`). Run it once on a login node of a Linux x86_64 cluster, in a checkout on the shared file
# system (compute nodes use the same path; experiments/profile/{smoke,paper}.yaml point at .venv-cluster/bin/python).
#   1. the pinned packages of cluster/requirements-linux-x86_64-cuda.txt (torch 2.11.0 and vLLM 0.24.0 CUDA wheels,
#      verl 0.9.1, Snakemake + the SLURM plugin, evaluators): `uv pip sync` if uv is on PATH (or UV=...), else
#      `pip install --no-deps -r` (the lock is complete, so pip resolves nothing);
#   2. this project, editable, with --no-deps (its dependencies are in the lock);
#   3. bfcl-eval==2026.3.23 with --no-deps (as scripts/setup_venv.sh does);
#   4. flash-attn==2.8.3 (what veRL's own `fsdp` extra pins for torch 2.11 / CUDA 13): veRL loads the actor with
#      attn_implementation=flash_attention_2 and its remove-padding path imports flash_attn. Not in the lock: it
#      is source-only on PyPI; its setup.py fetches the matching prebuilt wheel from its GitHub releases, else it
#      compiles (needs nvcc, long). FLASH_ATTN=0 skips it; then train with the veRL profile key
#      attn_implementation: sdpa (the launcher refuses flash_attention_2 without flash_attn before starting Ray).
# Needs CPython 3.11 (the lock is resolved for it): PYTHON=/path/to/python3.11 if `python3` is another version.
# Downloads several GB (CUDA libraries); source-only packages (textworld, jericho) need a C compiler. Idempotent: a stamp keyed on the lock, pyproject.toml and this script
# skips the install when nothing changed. `--check` verifies interpreter, platform and lock, and installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOCK=cluster/requirements-linux-x86_64-cuda.txt
VENV=.venv-cluster
BFCL="bfcl-eval==2026.3.23"

die() { echo "error: $*" >&2; exit 2; }

# the interpreter and platform the lock was resolved for
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || die "$PY is Python $("$PY" -c 'import platform; print(platform.python_version())'); the lock is for 3.11: set PYTHON=/path/to/python3.11"
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "the lock is for Linux x86_64, this is $(uname -s)-$(uname -m)"
# the lock must be current (scripts/lock_cluster_env.sh writes the hash of requirements.in on its first line)
want_in=$(sha256sum cluster/requirements.in | cut -d' ' -f1)
have_in=$(sed -n '1s/^# requirements.in sha256: //p' "$LOCK")
[ "$want_in" = "$have_in" ] || die "$LOCK is older than cluster/requirements.in: run scripts/lock_cluster_env.sh"

UV=${UV:-$(command -v uv || true)}
if [ "${1:-}" = "--check" ]; then
  echo "ok: $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])'), $(uname -s)-$(uname -m), lock current"
  echo "would install $LOCK into $VENV/ with ${UV:-pip}, then -e . and $BFCL with --no-deps"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp=$VENV/.resrl-setup-stamp
want=$(cat "$LOCK" pyproject.toml scripts/setup_cluster_env.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[cluster-env] $VENV is up to date" >&2
  exit 0
fi
# alfworld builds fast-downward with `python build.py`: the venv's python must come first on PATH
export PATH="$PWD/$VENV/bin:$PATH"
echo "[cluster-env] installing $LOCK into $VENV/ (several GB)" >&2
if [ -n "$UV" ]; then
  "$UV" pip sync --python "$VENV/bin/python" "$LOCK"   # exactly the lock: removes anything else
else
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q --no-deps -r "$LOCK"
fi
"$VENV/bin/python" -m pip --version >/dev/null 2>&1 || "$VENV/bin/python" -m ensurepip -q   # uv sync drops pip
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" -m pip install -q --no-deps "$BFCL"
if [ "${FLASH_ATTN:-1}" != "0" ]; then
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation "flash-attn==2.8.3" \
    || echo "[cluster-env] warning: flash-attn did not install; set attn_implementation: sdpa in the veRL profile" >&2
fi
"$VENV/bin/python" -c 'import resrl, snakemake_executor_plugin_slurm'   # what Snakemake and every rule need
echo "$want" > "$stamp"
# the GPU stack, imported only (a login node may lack the CUDA driver, so this warns instead of failing)
"$VENV/bin/python" - <<'PY' || echo "[cluster-env] warning: importing the GPU stack failed here; try on a GPU node" >&2
import importlib.metadata as md
import torch, verl, vllm  # noqa: F401
print("[cluster-env] " + ", ".join(f"{p} {md.version(p)}" for p in
      ("torch", "vllm", "verl", "transformers", "ray", "snakemake", "snakemake-executor-plugin-slurm")))
print(f"[cluster-env] torch CUDA {torch.version.cuda}; GPU visible here: {torch.cuda.is_available()}")
PY
echo "[cluster-env] done: $VENV/bin/snakemake --profile experiments/executor/slurm --config profile=smoke" >&2
