"""``python -m eval.metric``: the earlier name of ``python -m eval.metrics`` (eval/metrics/cli.py), kept so
existing commands and scripts keep working. Nothing else lives here."""

import sys

from eval.metrics.cli import main

if __name__ == "__main__":
    sys.exit(main())
