#!/usr/bin/env bash
# Create .venv-verl/: veRL 0.9.x needs transformers < 5.11, so it lives beside the main .venv (about 5 minutes,
# 2.1 GB here). torch stays at the local CPU build 2.13.0 through a constraints file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-verl/bin/python ]; then
  python3 -m venv .venv-verl
fi
stamp=.venv-verl/.resrl-setup-stamp
want=$(cat pyproject.toml scripts/setup_verl_venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
constraints=$(mktemp)
echo "torch==2.13.0" > "$constraints"
.venv-verl/bin/python -m pip install -q --upgrade pip
.venv-verl/bin/python -m pip install -q "torch==2.13.0"
# verl[verl-core] directly, not the project's `verl` extra: that one adds veRL's vLLM stack, which pulls a CUDA
# torch (the cluster environment, scripts/setup_cluster_env.sh, has it)
.venv-verl/bin/python -m pip install -q -c "$constraints" -e ".[dev]" "verl[verl-core]==0.9.1"
rm -f "$constraints"
echo "$want" > "$stamp"
