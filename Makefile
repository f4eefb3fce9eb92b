# The two set-up commands of the README are `make run` and `make test`; both create/refresh .venv/.
PY := .venv/bin/python
.PHONY: venv run report demo dag-paper bench test test-slow test-verl lint

venv:
	@bash scripts/setup_venv.sh

# The main job: the whole DAG (train -> sample -> grade -> metrics -> tables/figures) for the tiny CPU profile.
run: venv
	.venv/bin/snakemake --cores 2 --rerun-incomplete

# Snakemake's HTML report of the tiny profile (runs what is missing first): results/report/tiny.html
report: venv
	.venv/bin/snakemake --cores 2 --rerun-incomplete
	.venv/bin/snakemake --config profile=tiny --report results/report/tiny.html

# A single ResRL training run with held-out accuracy before/after (no DAG).
demo: venv
	$(PY) -m resrl.demo

dag-paper: venv
	.venv/bin/snakemake -n --cores 2 --config profile=paper

test: venv
	$(PY) -m pytest -q

test-slow: venv
	$(PY) -m pytest -q -m slow

lint: venv
	$(PY) -m ruff check resrl evaluators tests paper_figures benchmarks scripts
	$(PY) -m ruff format --check resrl evaluators tests paper_figures benchmarks scripts

# veRL backend tests in their own venv (veRL pins transformers < 5.11); about 5 minutes to create the first time.
test-verl:
	@bash scripts/setup_verl_venv.sh
	.venv-verl/bin/python -m pytest -q -p no:cacheprovider tests/resrl/backends tests/resrl/methods/test_toy_method.py

# Performance benchmarks: ratios against the obvious implementations -> results/benchmarks/{*.json,SUMMARY.md}
bench: venv
	$(PY) -m benchmarks

.PHONY: cluster-env cluster-lock
# The one environment for the paper DAG on a GPU cluster (Linux x86_64, Python 3.11): .venv-cluster/ from the lock
# cluster/requirements-linux-x86_64-cuda.txt, then the project and bfcl-eval with --no-deps (docs/cluster.md).
cluster-env:
	@bash scripts/setup_cluster_env.sh

# Re-resolve that lock after editing cluster/requirements.in (needs uv; no GPU).
cluster-lock:
	@bash scripts/lock_cluster_env.sh

.PHONY: vllm-api-venv test-vllm-api
# vLLM 0.24.0's Python API on this CPU machine (the wheel without its CUDA dependencies), to check the project's
# calls against the real signatures: tests/gpu_sim/test_vllm_api_snapshot.py (about 2 minutes the first time).
vllm-api-venv:
	@bash scripts/setup_vllm_api_venv.sh

test-vllm-api: venv vllm-api-venv
	RESRL_VLLM_API_PYTHON=.venv-vllm-api/bin/python $(PY) -m pytest -q tests/gpu_sim
