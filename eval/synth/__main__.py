"""CLI: ``python -m eval.synth build --out DIR ...`` and ``python -m eval.synth shift ...``."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from eval.synth.config import PRESETS, SynthError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval.synth", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    d = PRESETS["default"]
    b = sub.add_parser("build", help="build a synthetic corpus")
    b.add_argument("--out", required=True, help="output directory (new, empty, or a partial build to resume)")
    b.add_argument("--identities", type=int, default=d.identities, help="number of identities K (max 8)")
    b.add_argument("--clips", type=int, default=d.clips, help="clips per identity")
    b.add_argument("--seconds", type=float, default=d.seconds, help="longest clip in seconds (clips: S/2..S)")
    b.add_argument("--size", type=int, default=d.size, help="frame side in pixels (multiple of 4)")
    b.add_argument("--seed", type=int, default=d.seed)
    b.add_argument("--voices", default=None,
                   help="comma-separated voice per identity (list: python -m eval.synth voices)")
    b.add_argument("--test-identities", type=int, default=d.test_identities, help="identities unseen in train")
    b.add_argument("--jobs", type=int, default=1, help="worker processes (one identity each at a time)")
    b.add_argument("--shift-audio", type=int, default=0, metavar="FRAMES",
                   help="also write a desynchronised copy to OUT-shiftFRAMES")
    s = sub.add_parser("shift", help="write a copy of a corpus with the audio shifted by FRAMES video frames")
    s.add_argument("--corpus", required=True)
    s.add_argument("--frames", type=int, required=True, help="positive: audio late; negative: audio early")
    s.add_argument("--out", required=True)
    sub.add_parser("voices", help="list the available voices")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "voices":
            from eval.synth.voices import DEFAULT_VOICES, VOICES

            for name, v in sorted(VOICES.items()):
                print(f"{name:14s} {v.engine:9s} {' '.join(v.args):32s} {v.speaker}")
            print("default per identity:", ",".join(DEFAULT_VOICES))
            return 0
        if args.command == "build":
            from eval.synth.corpus import build
            from eval.synth.shift import shift_corpus

            voices = tuple(v.strip() for v in args.voices.split(",")) if args.voices else None
            start = time.monotonic()
            out = build(args.out, identities=args.identities, clips=args.clips, seconds=args.seconds,
                        size=args.size, seed=args.seed, voices=voices, test_identities=args.test_identities,
                        jobs=args.jobs)
            print(f"built {out} in {time.monotonic() - start:.1f} s")
            if args.shift_audio:
                shifted = shift_corpus(out, args.shift_audio, f"{str(out).rstrip('/')}-shift{args.shift_audio:+d}")
                print(f"wrote desynchronised copy {shifted}")
            return 0
        from eval.synth.shift import shift_corpus

        out = shift_corpus(args.corpus, args.frames, args.out)
        print(f"wrote {out} (audio shifted by {args.frames} frames)")
        return 0
    except SynthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
