# The two set-up commands of the README are `make run` and `make test`; both create/refresh .venv/.
PY := .venv/bin/python
.PHONY: venv run test test-slow test-verl lint

venv:
	@bash scripts/setup_venv.sh

run: venv
	$(PY) -m resrl.demo

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
