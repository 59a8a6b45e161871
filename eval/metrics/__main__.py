"""``python -m eval.metrics NAME --gen PATH ...``: score files or folders with one metric (eval.metrics.cli)."""

import sys

from eval.metrics.cli import main

sys.exit(main())
