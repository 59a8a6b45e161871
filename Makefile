# ttsf-bench. `make demo` and `make test` are the README's two commands.
PY := .venv/bin/python
SHELL := /bin/bash

.PHONY: setup demo test bench clean-cache lint

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m eval.run --table 1

test: setup
	$(dir $(PY))lint-imports --no-cache
	$(PY) -m pytest -q --durations=15 tests

bench: setup
	for b in bench/*.py; do echo "== $$b"; \
	  if grep -q -- '"--quick"' $$b; then $(PY) $$b --quick || exit 1; else $(PY) $$b || exit 1; fi; done

clean-cache:
	rm -rf $${TTSF_CACHE:-$$HOME/.cache/ttsf-bench}/synth
