"""Dispatcher: ``python -m ttsf.train MODE [args...]`` -> ``ttsf.train.MODE:main(args)``."""

from __future__ import annotations

import importlib
import sys

from ttsf.train import MODES

USAGE = f"usage: python -m ttsf.train {{{'|'.join(MODES)}}} --config FILE [options]  (MODE --help for options)"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    mode, rest = argv[0], argv[1:]
    if mode not in MODES:
        import difflib

        close = difflib.get_close_matches(mode, MODES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(f"unknown training mode {mode!r}{hint}\n{USAGE}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"ttsf.train.{mode}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
