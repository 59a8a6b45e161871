"""``python -m eval.splits``: build, freeze, verify and validate the evaluation splits.

    python -m eval.splits list
    python -m eval.splits build lrs2                 # regenerate the committed LRS2 manifests
    python -m eval.splits freeze vox2 --data-root DIR
    python -m eval.splits freeze lrs3 --data-root DIR  # training manifests into DIR/lrs3/
    python -m eval.splits checksums                  # rewrite splits/SHA256SUMS
    python -m eval.splits verify                     # check committed files against SHA256SUMS
    python -m eval.splits validate NAME --data-root DIR [--json] [--limit K]
    python -m eval.splits dir PATH [--out PATH/split.jsonl] [--json]   # a folder of clips -> manifest
"""

from __future__ import annotations

import argparse
import json
import sys

from eval.data import roots, splits
from ttsf.data.manifest import ManifestError
from ttsf.inputs import nonneg_int


def _cmd_list(args) -> int:
    sums = splits.read_checksums()
    for name, spec in splits.SPLITS.items():
        where = f"splits/{spec.filename}" if spec.filename else (
            f"DIR/lrs3/{name}.jsonl (`freeze lrs3`)" if spec.dataset == "lrs3"
            else "(inside the synthetic corpus, built on demand)")
        state = ""
        if spec.filename:
            state = "committed" if spec.filename in sums else "not frozen yet"
        print(f"{name:18s} {spec.dataset:6s} {where:40s} {state:15s} {spec.description}")
    return 0


def _cmd_build(args) -> int:
    if args.dataset != "lrs2":
        print("error: only `build lrs2` exists: VoxCeleb2 needs the local data (`freeze vox2`)", file=sys.stderr)
        return 2
    for name, digest in splits.build_lrs2().items():
        print(f"{name}: sha256 {digest}")
    splits.write_checksums()
    return 0


def _cmd_freeze(args) -> int:
    if args.dataset == "lrs3":
        return _freeze_lrs3(args)
    if args.dataset != "vox2":
        print("error: only `freeze vox2` exists (the LRS2 manifests are fixed by the official list)", file=sys.stderr)
        return 2
    try:
        report = splits.freeze_vox2(args.data_root, out=args.out)
    except (roots.DataRootError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


def _freeze_lrs3(args) -> int:
    from eval.data.lrs3 import freeze_lrs3

    try:
        record = freeze_lrs3(args.data_root, out=args.out)
    except (roots.DataRootError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = {k: record[k] for k in ("root", "sets_found", "sets_missing", "clips_seen", "manifests")}
    summary["rejected"] = len(record["rejected"])
    print(json.dumps(summary, indent=2, sort_keys=True))
    for clip, reason in sorted(record["rejected"].items())[:20]:
        print(f"rejected {clip}: {reason}", file=sys.stderr)
    return 0


def _cmd_checksums(args) -> int:
    for name, digest in splits.write_checksums().items():
        print(f"{digest}  {name}")
    return 0


def _cmd_verify(args) -> int:
    bad = 0
    for name in splits.read_checksums():
        try:
            splits.verify_file(name)
            print(f"OK   {name}")
        except ManifestError as exc:
            bad += 1
            print(f"FAIL {name}: {exc}")
    return 1 if bad else 0


def _cmd_validate(args) -> int:
    from eval.data.validate import Problem, Report, validate

    try:
        manifest = splits.split_manifest(args.name, args.data_root)
    except (roots.DataRootError, ManifestError, KeyError) as exc:
        report = Report(args.name, str(args.data_root), 0, 0, [Problem("*", "split", str(exc))])
    else:
        if args.limit:
            from ttsf.data.manifest import Manifest

            manifest = Manifest(manifest.name, manifest.items[: args.limit], manifest.sha256, manifest.path)
        try:
            root = splits.split_root(args.name, args.data_root)
        except roots.DataRootError as exc:
            report = Report(args.name, "(none)", len(manifest), 0, [Problem("*", "data_root", str(exc))])
        else:
            report = validate(manifest, root)
    print(json.dumps(report.to_json(), indent=2) if args.json else report.summary())
    return 0 if report.ok else 1


def _cmd_dir(args) -> int:
    from eval.data.folder import write_folder_manifest
    from eval.data.validate import validate
    from ttsf.data.manifest import load_manifest

    try:
        path, digest, problems = write_folder_manifest(args.path, args.out)
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = validate(load_manifest(path), args.path)
    body = report.to_json() | {"manifest": str(path), "sha256": digest,
                               "not_items": [{"file": p.file, "reason": p.reason} for p in problems]}
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(f"wrote {path} (sha256 {digest})")
        print(report.summary())
        for p in problems:
            print(f"  {p.file} is not an item: {p.reason}")
        print(f"use it: python -m eval.run --table 1 --split dir:{path} --offline   (or dir:{args.path})")
    return 0 if report.ok and not problems else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.splits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list").set_defaults(fn=_cmd_list)
    p = sub.add_parser("build")
    p.add_argument("dataset", choices=["lrs2", "vox2"])
    p.set_defaults(fn=_cmd_build)
    p = sub.add_parser("freeze")
    p.add_argument("dataset", choices=["lrs2", "vox2", "lrs3"])
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", default=None, type=lambda s: __import__("pathlib").Path(s))
    p.set_defaults(fn=_cmd_freeze)
    sub.add_parser("checksums").set_defaults(fn=_cmd_checksums)
    sub.add_parser("verify").set_defaults(fn=_cmd_verify)
    p = sub.add_parser("validate")
    p.add_argument("name")
    p.add_argument("--data-root", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=nonneg_int, default=None, help="first K items (0 = all)")
    p.set_defaults(fn=_cmd_validate)
    p = sub.add_parser("dir", help="manifest (with sha256s) of a folder of clips: <stem>.mp4 + optional <stem>.txt")
    p.add_argument("path", type=lambda s: __import__("pathlib").Path(s))
    p.add_argument("--out", default=None, type=lambda s: __import__("pathlib").Path(s),
                   help="manifest file inside the folder (default PATH/split.jsonl)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=_cmd_dir)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
