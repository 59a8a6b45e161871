# ttsf-bench. `make demo` and `make test` are the README's two commands.
PY := .venv/bin/python
SHELL := /bin/bash

.PHONY: setup demo test bench clean-cache lint

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m eval.run --table 1

test: setup lint
	$(dir $(PY))lint-imports --no-cache
	$(PY) -m pytest -q --durations=15 tests

lint: setup
	$(PY) -m ruff check .

# every bench module, as `python -m bench.NAME` (with --quick where the bench takes it)
bench: setup
	for b in bench/[a-z]*.py; do m=bench.$$(basename $$b .py); echo "== $$m"; \
	  if grep -q -- '"--quick"' $$b; then $(PY) -m $$m --quick || exit 1; else $(PY) -m $$m || exit 1; fi; done

clean-cache:
	rm -rf $${TTSF_CACHE:-$$HOME/.cache/ttsf-bench}/synth
