"""The command line every ``placeholder_<name>.py`` builder shares: ``CHECKOUT [--seed N]``.

The builders run inside the upstream's own interpreter (``baselines.install.build_placeholders``),
which cannot import this project; they import this file as a sibling module (a script's own folder
is first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import os
import sys


def enter_checkout(chdir: bool = True) -> argparse.Namespace:
    """Parse ``CHECKOUT [--seed N]``, put the checkout first on ``sys.path`` (so the upstream's own
    model classes import) and, with ``chdir``, make it the working directory; ``checkout`` is
    returned as an absolute path."""
    p = argparse.ArgumentParser(description="placeholder checkpoints (tests only) from the upstream's own classes")
    p.add_argument("checkout")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.checkout = os.path.abspath(args.checkout)
    sys.path.insert(0, args.checkout)
    if chdir:
        os.chdir(args.checkout)
    return args
