"""Text + portrait -> talking-face video with speech.

    python -m ttsf.synthesize --text "Hello there." --image face.png --checkpoint ttsf.pt \
        --out out.mp4 [--seed 0] [--steps 10] [--face-index K]

Any image size works: the face is detected (YuNet), cropped and aligned to the model's
framing. No face, or several faces without ``--face-index``, is an error (exit 2).
Writes an H.264 + AAC mp4 (25 fps, 16 kHz) and prints the duration, frame count and
per-stage timings.

Bad input is refused before the model runs, with one ``error:`` line naming the input and
the problem (exit 2): numbers outside their range (NaN/inf included), a checkpoint that is
missing or not a TTSF checkpoint, an output path that is a folder or not writable, text
that is empty, not UTF-8, holds characters the English front end cannot read, or is longer
than :data:`ttsf.data.manifest.MAX_TEXT_CHARS` (refused rather than split: see ``docs/reliability.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from ttsf.data.manifest import MAX_TEXT_CHARS
from ttsf.inputs import (
    InputError,
    finite_float,
    input_file,
    int_range,
    nonneg_int,
    one_line,
    output_file,
    seed_int,
    strict_json,
)
from ttsf.tts.checks import MAX_STEPS, check_text


def load_model(path: Path):
    """The TTSF model of checkpoint ``path``; :class:`InputError` when it cannot be one."""
    from ttsf.model import TTSF

    input_file(path, "--checkpoint")
    try:
        return TTSF.load(path)
    except Exception as exc:  # any failure to load a user file is reported, with its cause, as bad input
        raise InputError(f"--checkpoint {path} is not a loadable TTSF checkpoint ({one_line(exc)})") from exc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ttsf.synthesize", description=__doc__.split("\n\n")[0])
    p.add_argument("--text", required=True, help=f"English text, at most {MAX_TEXT_CHARS} characters")
    p.add_argument("--image", required=True, type=Path, help="portrait of any size (one face, or use --face-index)")
    p.add_argument("--checkpoint", required=True, type=Path, help="joint TTSF checkpoint (ttsf.pt)")
    p.add_argument("--out", required=True, type=Path, help="output .mp4")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--steps", type=int_range(1, MAX_STEPS), default=10,
                   help="Euler steps (TTS decoder and motion sampler), 1..%d" % MAX_STEPS)
    p.add_argument("--temperature", type=finite_float(0.0, 10.0), default=None,
                   help="TTS noise temperature, 0..10 (default: the model's)")
    p.add_argument("--motion-temperature", type=finite_float(0.0, 10.0), default=1.0,
                   help="head-motion noise temperature, 0..10")
    p.add_argument("--face-index", type=nonneg_int, default=None, help="which face, 0-based left to right")
    p.add_argument("--wav", type=Path, default=None, help="also write the speech as a 16 kHz wav")
    p.add_argument("--threads", type=int_range(1, 256), default=1,
                   help="torch intra-op threads (default 1: the 64-px model's operations are too small to gain from "
                        "more, and on a busy 2-core machine 2 threads made synthesis 5x slower)")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from ttsf.face.align import FaceAlignError
    from ttsf.media import MediaError, write_audio, write_video
    from ttsf.provenance import demo_data_warning
    from ttsf.tts.normalise import TextError

    try:
        check_text(args.text)
        input_file(args.image, "--image")
        output_file(args.out, "--out")
        if args.wav is not None:
            output_file(args.wav, "--wav")
        model = load_model(args.checkpoint)
        warning = demo_data_warning(getattr(model, "meta", {}), args.image)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        out = model.synthesize(args.text, args.image, seed=args.seed, steps=args.steps,
                               temperature=args.temperature, motion_temperature=args.motion_temperature,
                               face_index=args.face_index)
        write_video(args.out, out.frames, fps=out.fps, audio=out.wav, sample_rate=out.sample_rate)
        if args.wav is not None:
            write_audio(args.wav, out.wav, out.sample_rate)
    except (InputError, FaceAlignError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except TextError as exc:
        print(f"error: --text: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (MediaError, OSError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    print(strict_json({"out": str(args.out), **out.info,
                       "timings_s": {k: round(v, 4) for k, v in out.timings.items()}}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
