"""Text + portrait -> talking-face video with speech.

    python -m ttsf.synthesize --text "Hello there." --image face.png --checkpoint ttsf.pt \
        --out out.mp4 [--seed 0] [--steps 10] [--face-index K]

Any image size works: the face is detected (YuNet), cropped and aligned to the model's
framing. No face, or several faces without ``--face-index``, is an error (exit 2).
Writes an H.264 + AAC mp4 (25 fps, 16 kHz) and prints the duration, frame count and
per-stage timings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ttsf.synthesize", description=__doc__.split("\n\n")[0])
    p.add_argument("--text", required=True)
    p.add_argument("--image", required=True, type=Path, help="portrait of any size (one face, or use --face-index)")
    p.add_argument("--checkpoint", required=True, type=Path, help="joint TTSF checkpoint (ttsf.pt)")
    p.add_argument("--out", required=True, type=Path, help="output .mp4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=10, help="Euler steps (TTS decoder and motion sampler)")
    p.add_argument("--temperature", type=float, default=None, help="TTS noise temperature (default: the model's)")
    p.add_argument("--motion-temperature", type=float, default=1.0)
    p.add_argument("--face-index", type=int, default=None, help="which face, 0-based left to right")
    p.add_argument("--wav", type=Path, default=None, help="also write the speech as a 16 kHz wav")
    args = p.parse_args(argv)

    from ttsf.face.align import FaceAlignError
    from ttsf.media import write_audio, write_video
    from ttsf.model import TTSF

    if not args.checkpoint.is_file():
        print(f"error: checkpoint {args.checkpoint} not found", file=sys.stderr)
        return 2
    if not args.text.strip():
        print("error: --text is empty", file=sys.stderr)
        return 2
    model = TTSF.load(args.checkpoint)
    from ttsf.provenance import demo_data_warning

    warning = demo_data_warning(getattr(model, "meta", {}), args.image)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        out = model.synthesize(args.text, args.image, seed=args.seed, steps=args.steps,
                               temperature=args.temperature, motion_temperature=args.motion_temperature,
                               face_index=args.face_index)
    except FaceAlignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_video(args.out, out.frames, fps=out.fps, audio=out.wav, sample_rate=out.sample_rate)
    if args.wav is not None:
        write_audio(args.wav, out.wav, out.sample_rate)
    print(json.dumps({"out": str(args.out), **out.info,
                      "timings_s": {k: round(v, 4) for k, v in out.timings.items()}}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
