"""``python -m eval.mos``: blinded MOS studies for Table 4 (see docs/mos.md).

    python -m eval.mos packets --run RUN_DIR [--run RUN_DIR2] --systems a,b,c,d --clips 20 --raters 40 --out DIR
    python -m eval.mos serve DIR [--port 8000]          # local study on 127.0.0.1, answers to DIR/answers/
    python -m eval.mos score ANSWERS... --key DIR/key.json [--format md|tex|csv] [--out results.json]

Errors are one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eval.mos.keyfile import CliError
from ttsf.inputs import int_range, seed_int


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _packets(args) -> int:
    from eval.mos.packets import build_study

    info = build_study(args.run, args.systems, args.out, args.clips, args.raters, args.seed, args.per_rater,
                       args.training, args.size, args.gold_source)
    print(f"study {info['study_id']}: {info['raters']} raters x {len(info['clips'])} clips x "
          f"{len(info['systems'])} systems ({info['videos']} videos) in {args.out}")
    print(f"  publish {info['site']} (static files); send each rater their page from {args.out / 'links.csv'}")
    print(f"  keep {info['key']} away from raters; score with: python -m eval.mos score {args.out / 'answers'} "
          f"--key {info['key']}")
    return 0


def _score(args) -> int:
    from eval.mos.score import report_text, score_files
    from eval.tables.render import render
    from ttsf.atomic import atomic_write_json

    results = score_files(args.answers, args.key)
    print(render(results, args.format), end="")
    print(report_text(results), end="")
    if args.out:
        atomic_write_json(args.out, results)
        print(f"results: {args.out}")
    return 0


def _serve(args) -> int:
    from eval.mos.serve import serve

    serve(args.dir, args.port)
    return 0


def _count(lo: int):
    """argparse type: a count >= ``lo`` (:func:`ttsf.inputs.int_range`, capped at 2**31 - 1)."""
    return int_range(lo, 2**31 - 1)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv=None) -> int:
    parser = _Parser(prog="python -m eval.mos", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("packets", help="build a blinded study from finished run folders")
    p.add_argument("--run", type=Path, action="append", required=True, help="finished run folder (repeatable)")
    p.add_argument("--systems", type=_csv, required=True, help="rated systems, comma list (>= 2)")
    p.add_argument("--clips", type=_count(1), default=20, help="study clips (default 20, the paper's)")
    p.add_argument("--raters", type=_count(1), default=40, help="raters (default 40, the paper's)")
    p.add_argument("--per-rater", type=_count(1), default=None, help="clips per rater (default: all)")
    p.add_argument("--training", type=_count(0), default=2, help="unscored practice clips (default 2)")
    p.add_argument("--size", type=_count(64), default=256, help="video side in pixels (default 256)")
    p.add_argument("--gold-source", default=None, help="system whose video makes the gold/trap clips "
                   "(default gt when present)")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(fn=_packets)
    p = sub.add_parser("score", help="check answers against the design, screen raters, print Table 4")
    p.add_argument("answers", type=Path, nargs="+", help="answer files or folders of them")
    p.add_argument("--key", type=Path, required=True, help="the study's key.json")
    p.add_argument("--format", choices=("md", "tex", "csv"), default="md")
    p.add_argument("--out", type=Path, default=None, help="write the results JSON here")
    p.set_defaults(fn=_score)
    p = sub.add_parser("serve", help="serve a study on 127.0.0.1 and store submitted answers")
    p.add_argument("dir", type=Path, help="study folder (holds key.json and site/)")
    p.add_argument("--port", type=_count(0), default=8000)
    p.set_defaults(fn=_serve)
    args = parser.parse_args(argv)
    from eval.mos.packets import StudyError
    from eval.mos.stimuli import StimulusError

    try:
        return args.fn(args)
    except (CliError, StudyError, StimulusError, ValueError, FileNotFoundError, IsADirectoryError,
            PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror or exc}" if exc.filename else f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
