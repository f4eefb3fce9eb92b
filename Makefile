# The two set-up commands of the README are `make run` and `make test`; both create/refresh .venv/.
PY := .venv/bin/python
.PHONY: venv run demo dag-paper bench test test-slow test-verl lint

venv:
	@bash scripts/setup_venv.sh

# The main job: the whole DAG (train -> sample -> grade -> metrics -> tables/figures) for the tiny CPU profile.
run: venv
	.venv/bin/snakemake --cores 2 --rerun-incomplete

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
	$(PY) -m ruff check resrl evaluators tests

# veRL backend tests in their own venv (veRL pins transformers < 5.11); about 5 minutes to create the first time.
test-verl:
	@bash scripts/setup_verl_venv.sh
	.venv-verl/bin/python -m pytest -q -p no:cacheprovider tests/resrl/backends

# Performance benchmarks: ratios against the obvious implementations -> results/benchmarks/{*.json,SUMMARY.md}
bench: venv
	$(PY) -m benchmarks
