#!/usr/bin/env bash
# Create .venv-vllm-api/: vLLM's Python API importable on a CPU-only machine, to check the project's calls against
# the real signatures (tests/gpu_sim/test_vllm_api_snapshot.py). The vLLM wheel goes in WITHOUT its dependencies
# (they pull a CUDA torch), then torch 2.13.0 CPU and the pure-Python packages vLLM imports at module level.
# Building an LLM still needs a GPU. About 2 minutes and 1.5 GB here. Version: the one the cluster lock pins.
set -euo pipefail
cd "$(dirname "$0")/.."
ver=${VLLM_VERSION:-0.24.0}
if [ ! -x .venv-vllm-api/bin/python ]; then python3 -m venv .venv-vllm-api; fi
stamp=.venv-vllm-api/.resrl-setup-stamp
want=$(echo "$ver" | cat - scripts/setup_vllm_api_venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
py=.venv-vllm-api/bin/python
$py -m pip install -q --upgrade pip
$py -m pip install -q "torch==2.13.0"
$py -m pip install -q --no-deps "vllm==$ver"
# vLLM's module-level imports (measured with 0.24.0); pip warns that vllm's pins are unmet: expected here
$py -m pip install -q numpy packaging regex msgspec pydantic cbor2 psutil pyzmq urllib3 "transformers<5.11" aiohttp \
  requests openai-harmony openai cloudpickle pillow pybase64 cachetools uvloop py-cpuinfo prometheus_client \
  llguidance xgrammar fastapi partial_json_parser 2>&1 | grep -v "requires\|dependency resolver" || true
$py -c "from vllm import LLM, EngineArgs, SamplingParams; from vllm.inputs import TokensPrompt" 2>/dev/null
echo "$want" > "$stamp"
echo "[setup] .venv-vllm-api: vllm $ver API importable" >&2
