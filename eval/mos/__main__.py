"""``python -m eval.mos``: blinded MOS packets and Table 4.

    python -m eval.mos packets --run RUN_DIR --systems a,b,c,d --clips 5 --raters 40 --out DIR [--seed S]
    python -m eval.mos score --packets DIR --ratings ratings.csv [--format md|tex|csv]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _packets(args) -> int:
    from eval.mos.packets import build_packets

    run = json.loads((args.run / "results.json").read_text("utf-8"))
    videos = {}
    for system in args.systems.split(","):
        folder = args.run / "samples" / system
        videos[system] = {str(p.relative_to(folder).with_suffix("")): p for p in sorted(folder.rglob("*.mp4"))}
        if not videos[system]:
            print(f"error: no videos for system {system!r} in {folder}", file=sys.stderr)
            return 2
    texts = {}  # shown to raters: from the split manifest recorded in the run
    root = Path(run["split"].get("root") or "")
    manifest = root / f"{run['split']['name']}.jsonl"
    if manifest.is_file():
        for line in manifest.read_text("utf-8").splitlines():
            d = json.loads(line)
            texts[d["id"]] = d.get("text") or ""
    try:
        info = build_packets(videos, texts, args.out, args.clips, args.raters, args.seed,
                             split={k: run["split"].get(k) for k in ("name", "sha256", "synthetic")})
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"packets for {info['raters']} raters x {len(info['clips'])} clips x {len(info['systems'])} systems in "
          f"{args.out} (keep {args.out / 'key.json'} away from raters)")
    return 0


def _score(args) -> int:
    from eval.cache import atomic_write_json
    from eval.mos.packets import mos_results, read_ratings
    from eval.tables.render import render

    key = json.loads((args.packets / "key.json").read_text("utf-8"))
    scores, problems = read_ratings(args.ratings, key)
    results = mos_results(scores, key, problems)
    atomic_write_json(args.packets / "mos_results.json", results)
    print(render(results, args.format), end="")
    for p in problems:
        print(f"skipped: {p}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.mos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packets")
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--systems", required=True)
    p.add_argument("--clips", type=int, default=5)
    p.add_argument("--raters", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(fn=_packets)
    p = sub.add_parser("score")
    p.add_argument("--packets", type=Path, required=True)
    p.add_argument("--ratings", type=Path, required=True)
    p.add_argument("--format", choices=("md", "tex", "csv"), default="md")
    p.set_defaults(fn=_score)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
