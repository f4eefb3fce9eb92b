# The two set-up commands of the README are `make run` and `make test`; both create/refresh .venv/.
PY := .venv/bin/python
.PHONY: venv run test test-slow lint demo

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
