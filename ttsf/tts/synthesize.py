"""Text -> speech with a trained TTS checkpoint.

CLI::

    python -m ttsf.tts.synthesize --text "Hello there." --checkpoint CKPT --out out.wav
        [--speaker ID | --cond f_id.npy | --image face.png --face-checkpoint FACE.pt]
        [--steps 10 --temperature 0.667 --length-scale 1.0 --seed 0 --vocoder hifigan-ts]

Python::

    synth = Synthesizer("checkpoints/tts_synth.pt")
    out = synth("Hello there.", speaker="flite_slt", seed=0)
    out.wav (samples,) float32 at out.sample_rate; out.mel (n_mels, frames); out.features

The same seed gives the same output (noise comes from a seeded ``torch.Generator``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ttsf.inputs import (
    InputError,
    check_device,
    finite_float,
    input_file,
    int_range,
    one_line,
    output_file,
    seed_int,
    strict_json,
)
from ttsf.tts.checks import MAX_STEPS, check_text

log = logging.getLogger(__name__)


@dataclasses.dataclass
class SynthesisResult:
    wav: np.ndarray  # (samples,) float32
    sample_rate: int
    mel: torch.Tensor  # (n_mels, frames) natural-log mel
    features: dict  # e_t, f_t, f_tilde, energy, durations (batch dim removed), mel_length
    tokens: list
    settings: dict


def load_face_identity(image_path: Path, face_checkpoint: Path) -> torch.Tensor:
    """f_id ``(1, style_dim)`` of a portrait with the face branch of ``face_checkpoint``.

    The checkpoint is a ``torch.save`` dict with ``face_config`` (FaceConfig fields) and
    ``face`` (the FaceBranch state dict), read with ``weights_only=True``.
    """
    from PIL import Image

    from ttsf.face.config import FaceConfig
    from ttsf.face.model import FaceBranch

    blob = torch.load(face_checkpoint, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or "face" not in blob or "face_config" not in blob:
        raise ValueError(f"{face_checkpoint}: expected a dict with 'face' (state dict) and 'face_config'")
    fcfg = FaceConfig(**blob["face_config"])
    face = FaceBranch(fcfg).eval()
    face.load_state_dict(blob["face"])
    img = Image.open(image_path).convert("RGB").resize((fcfg.size, fcfg.size), Image.BICUBIC)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    with torch.inference_mode():
        return face.encode(x)["f_id"]


class Synthesizer:
    """A loaded TTS checkpoint + vocoder (the vocoder's mel recipe must equal the model's)."""

    def __init__(self, checkpoint, vocoder: str = "hifigan-ts", device: str = "cpu"):
        from ttsf.tts.checkpoint import load_model
        from ttsf.tts.text import Frontend
        from ttsf.vocoder import check_mel_config, load_vocoder

        self.model, blob = load_model(checkpoint, device)
        self.cfg = self.model.cfg
        self.speakers = list(blob.get("speakers", []))
        self.device = device
        self.vocoder = load_vocoder(vocoder, device=device, mel_config=self.cfg.mel)
        check_mel_config(self.cfg.mel, self.vocoder)
        self.frontend = Frontend()
        self.checkpoint = str(checkpoint)

    def condition(self, speaker: Optional[str] = None, cond: Optional[torch.Tensor] = None) -> Optional[torch.Tensor]:
        mode = self.cfg.cond_mode
        if mode == "none":
            if speaker is not None or cond is not None:
                raise ValueError("this checkpoint is unconditioned (cond_mode 'none'): no speaker/condition")
            return None
        if cond is not None:
            cond = torch.as_tensor(cond, dtype=torch.float32).reshape(1, -1).to(self.device)
            return cond
        if mode == "speaker_embedding":
            if speaker is None:
                raise ValueError(f"choose a speaker: one of {self.speakers}")
            if speaker not in self.speakers:
                import difflib

                close = difflib.get_close_matches(speaker, self.speakers, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown speaker {speaker!r}{hint}; known: {self.speakers}")
            return self.model.speaker_cond(torch.tensor([self.speakers.index(speaker)], device=self.device))
        raise ValueError("cond_mode 'face' needs the identity feature: pass cond (f_id) or an image")

    def __call__(self, text: str, speaker: Optional[str] = None, cond=None, n_steps: Optional[int] = None,
                 temperature: Optional[float] = None, length_scale: float = 1.0, seed: int = 0) -> SynthesisResult:
        tokens = self.frontend(text)
        c = self.condition(speaker, cond)
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        out = self.model.synthesise(torch.tensor([tokens], device=self.device),
                                    torch.tensor([len(tokens)], device=self.device), c, n_steps=n_steps,
                                    temperature=temperature, length_scale=length_scale, generator=gen)
        n = int(out["mel_lengths"][0])
        mel = out["mel"][:, :, :n]
        wav = self.vocoder(mel)[0].numpy().astype(np.float32)
        feats = {k: (v[0, ..., :n] if k in ("f_tilde", "energy") else v[0]) for k, v in out["features"].items()
                 if k != "mel_lengths"}
        settings = {"n_steps": n_steps or self.cfg.n_steps,
                    "temperature": self.cfg.temperature if temperature is None else temperature,
                    "length_scale": length_scale, "seed": int(seed), "speaker": speaker, "checkpoint": self.checkpoint,
                    "vocoder": self.vocoder.describe()}
        return SynthesisResult(wav, self.vocoder.sample_rate, mel[0], feats | {"mel_length": n}, tokens, settings)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ttsf.tts.synthesize", description="Synthesise speech from text.")
    ap.add_argument("--text", required=True)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="output .wav")
    who = ap.add_mutually_exclusive_group()
    who.add_argument("--speaker", help="speaker id (speaker_embedding checkpoints)")
    who.add_argument("--cond", type=Path, help=".npy condition vector, e.g. f_id (face checkpoints)")
    who.add_argument("--image", type=Path, help="portrait whose f_id conditions the voice (needs --face-checkpoint)")
    ap.add_argument("--face-checkpoint", type=Path, help="face-branch weights for --image")
    ap.add_argument("--steps", type=int_range(1, MAX_STEPS), default=None,
                    help="Euler steps (default: the config's, 10)")
    ap.add_argument("--temperature", type=finite_float(0.0, 10.0), default=None)
    ap.add_argument("--length-scale", type=finite_float(0.0, 10.0, lo_open=True), default=1.0)
    ap.add_argument("--seed", type=seed_int, default=0)
    ap.add_argument("--vocoder", default="hifigan-ts", help="'hifigan-ts', 'griffin-lim' or a checkpoint path")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if args.image is not None and args.face_checkpoint is None:
        ap.error("--image needs --face-checkpoint (the face branch that computes f_id)")
    logging.basicConfig(level=logging.WARNING)
    from ttsf.media import MediaError, write_audio
    from ttsf.tts.normalise import TextError

    try:  # bad input: one "error:" line, exit 2 (docs/reliability.md)
        check_text(args.text)
        check_device(args.device)
        input_file(args.checkpoint, "--checkpoint")
        for name in ("cond", "image", "face_checkpoint"):
            if getattr(args, name) is not None:
                input_file(getattr(args, name), "--" + name.replace("_", "-"))
        output_file(args.out, "--out")
        try:
            synth = Synthesizer(args.checkpoint, args.vocoder, args.device)
            cond = None
            if args.cond is not None:
                cond = torch.from_numpy(np.load(args.cond, allow_pickle=False)).float()
            elif args.image is not None:
                cond = load_face_identity(args.image, args.face_checkpoint)
        except (InputError, TextError, MediaError, OSError):
            raise
        except Exception as exc:  # a user file that is not what it claims: reported with its cause
            raise InputError(f"cannot load the model inputs ({one_line(exc)})") from exc
        res = synth(args.text, speaker=args.speaker, cond=cond, n_steps=args.steps, temperature=args.temperature,
                    length_scale=args.length_scale, seed=args.seed)
        write_audio(args.out, res.wav, res.sample_rate)
    except (InputError, TextError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (ValueError, MediaError, OSError) as exc:  # e.g. an unknown --speaker (with "did you mean")
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    print(strict_json({"out": str(args.out), "seconds": round(len(res.wav) / res.sample_rate, 3),
                       "mel_frames": res.features["mel_length"]}
                      | {k: v for k, v in res.settings.items() if k != "vocoder"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
