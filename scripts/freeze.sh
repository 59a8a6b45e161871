#!/usr/bin/env bash
# Regenerate requirements/constraints.txt from the current .venv (after a tested upgrade).
set -euo pipefail
cd "$(dirname "$0")/.."
{ echo "# Exact versions the project was tested with (pip constraints; regenerate with scripts/freeze.sh)."
  .venv/bin/python -m pip freeze --disable-pip-version-check | grep -viE '^(-e |ttsf-bench)' | grep -v '@ file'; } > requirements/constraints.txt
