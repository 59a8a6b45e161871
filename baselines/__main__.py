"""``python -m baselines``: lay out, build and check the upstream baselines.

    python -m baselines list
    python -m baselines setup NAME [--root DIR] [--source GITDIR_OR_URL] [--no-env] [--placeholder-weights]
    python -m baselines check NAME [--root DIR]

NAME: sadtalker, makeittalk, audio2head, facetts. ``--root`` (default
``$TTSF_BASELINES_ROOT`` or ``~/.cache/ttsf-bench/baselines``) holds one folder per
upstream. ``--placeholder-weights`` writes random-init checkpoints built from the
upstream's own classes (tests only: the harness refuses them without
``--allow-placeholder``); it never overwrites a real checkpoint. ``check`` exits 1 when
anything is missing and prints what. See docs/baselines.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional

NAMES = ("sadtalker", "makeittalk", "audio2head", "facetts")


def adapter(name: str):
    from eval.systems import create

    if name not in NAMES:
        raise SystemExit(f"error: unknown baseline {name!r} (one of {', '.join(NAMES)})")
    return create(name)


def _root(args) -> None:
    if getattr(args, "root", None):
        os.environ["TTSF_BASELINES_ROOT"] = os.path.abspath(os.path.expanduser(args.root))


def cmd_setup(args) -> int:
    from baselines.install import SetupError, build_placeholders, create_env, layout

    _root(args)
    a = adapter(args.name)
    t0 = time.perf_counter()
    try:
        layout(a, args.source)
        if not args.no_env:
            create_env(a)
        if args.placeholder_weights:
            build_placeholders(a, seed=args.seed)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"setup {a.key}: done in {time.perf_counter() - t0:.1f} s; now: python -m baselines check {a.key}"
          + (f" --root {args.root}" if args.root else ""))
    return 0


def cmd_check(args) -> int:
    from baselines.install import check

    _root(args)
    a = adapter(args.name)
    ok, lines = check(a)
    print(f"{a.key}: {'ready' if ok else 'NOT ready'} ({a.repo} @ {a.commit})")
    for line in lines:
        print(f"  {line}")
    for note in a.env.notes:
        print(f"  pin note: {note}")
    return 0 if ok else 1


def cmd_list(args) -> int:
    for name in NAMES:
        a = adapter(name)
        print(f"{name:11s} {a.repo} @ {a.commit[:12]}  env {a.env.mode}  checkout {a.checkout}")
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m baselines", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="lay out the upstream at its pinned commit and build its interpreter")
    s.add_argument("name")
    s.add_argument("--root", default=None)
    s.add_argument("--source", default=None, help="a local git directory (e.g. a mirror) or the URL")
    s.add_argument("--no-env", action="store_true", help="lay out the code only")
    s.add_argument("--placeholder-weights", action="store_true", help="random-init checkpoints (tests only)")
    s.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check", help="what is missing: code, env, each checkpoint")
    c.add_argument("name")
    c.add_argument("--root", default=None)
    sub.add_parser("list", help="the baselines, their pinned commits and checkouts")
    args = p.parse_args(argv)
    return {"setup": cmd_setup, "check": cmd_check, "list": cmd_list}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
