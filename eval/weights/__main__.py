"""``python -m eval.weights list | where NAME... | download NAME... | verify [NAME...]``."""

from __future__ import annotations

import argparse
import json
import sys

from ttsf.inputs import finite_float
from ttsf.weights import entries, get_entry, locate, weights_root
from ttsf.weights.errors import MissingWeights
from ttsf.weights.store import candidate_paths, find
from ttsf.weights.verify import check_file


def _status(name: str) -> tuple[str, str]:
    path = find(name)
    return ("present" if path else "missing"), (str(path) if path else "")


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for entry in entries().values():
        status, path = _status(entry.name)
        if status == "missing" and entry.assemble:
            status = "assembled on first use"
        rows.append(
            {
                "name": entry.name,
                "file": entry.file.filename,
                "status": status,
                "sha256": entry.file.sha256,
                "backends": list(entry.backends),
                "licence": entry.licence,
                "optional": entry.optional,
                "path": path,
            }
        )
    if args.json:
        print(json.dumps({"root": str(weights_root()), "weights": rows}, indent=2))
        return 0
    print(f"weights root: {weights_root()}  (set TTSF_WEIGHTS to change)")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        sha = (r["sha256"] or "unpinned")[:12]
        opt = " (optional)" if r["optional"] else ""
        print(f"{r['name']:<{width}}  {r['status']:<22}  {sha:<12}  {r['file']}  [{', '.join(r['backends'])}]{opt}")
    return 0


def cmd_where(args: argparse.Namespace) -> int:
    for name in args.names:
        entry = get_entry(name)
        print(f"{name}: {entry.file.filename}")
        for path in candidate_paths(entry):
            print(f"  {'found  ' if path.is_file() else 'absent '} {path}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from ttsf.weights.fetch import download

    failed = 0
    for name in args.names:
        try:
            path = download(name, timeout=args.timeout)
            print(f"{name}: ok {path}")
        except MissingWeights as exc:
            failed += 1
            print(f"{name}: FAILED\n{exc}", file=sys.stderr)
    return 1 if failed else 0


def cmd_verify(args: argparse.Namespace) -> int:
    names = args.names or list(entries())
    bad = 0
    for name in names:
        entry = get_entry(name)
        path = find(name)
        if path is None and not entry.assemble:
            print(f"{name}: missing")
            continue
        try:
            path = locate(name, verify=False)
            digest = check_file(path, entry.file, use_cache=False)
            for comp in entry.companions:
                check_file(path.parent / comp.filename, comp, use_cache=False)
            pinned = "pinned" if entry.file.sha256 else "unpinned"
            print(f"{name}: ok ({pinned}) sha256 {digest} {path}")
        except MissingWeights as exc:
            bad += 1
            print(f"{name}: BAD {exc}")
    return 1 if bad else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.weights", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="every registered weights file and whether it is present")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("where", help="the paths searched for NAME")
    p.add_argument("names", nargs="+")
    p.set_defaults(func=cmd_where)
    p = sub.add_parser("download", help="fetch NAME (atomic, resumable, sha256-verified)")
    p.add_argument("names", nargs="+")
    p.add_argument("--timeout", type=finite_float(0.0, 3600.0, lo_open=True), default=60.0,
                   help="seconds per network operation, (0, 3600]")
    p.set_defaults(func=cmd_download)
    p = sub.add_parser("verify", help="re-hash present files (all by default) against pinned sha256")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    from ttsf.names import UnknownName

    try:
        for name in getattr(args, "names", None) or []:
            get_entry(name)  # every name checked before any work
        return args.func(args)
    except UnknownName as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
