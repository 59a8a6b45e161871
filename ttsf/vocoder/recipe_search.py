"""Find the mel recipe a vocoder expects: re-synthesise real speech, keep the lowest MCD.

    python -m ttsf.vocoder.recipe_search [--vocoder hifigan-ts] [--out results.json]

Test speech is produced by ``flite`` (voices recorded from real speakers: slt, awb,
rms, kal16) at 16 kHz. For each candidate :class:`~ttsf.media.MelConfig` the speech
is turned into a mel, vocoded and compared with the original by MCD (pymcd, mode
``dtw``: WORLD mcep order 13, alpha 0.65 at 22.05 kHz). The search is a
coordinate descent over the recipe's fields, starting at the paper's recipe.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

from ttsf.media import MelConfig, mel, read_audio, write_audio

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore every summer morning.",
    "Please call Stella and ask her to bring these things with her from the store.",
)
VOICES = ("slt", "awb", "rms", "kal16")

#: Fields searched and their candidate values, in search order.
AXES = {
    "log": ["ln", "log10"],
    "power": [1.0, 2.0],
    "win_length": [640, 1024, 800, 400],
    "n_fft": [1024, 2048, 512],
    "f_min": [0.0, 55.0, 80.0],
    "f_max": [8000.0, 7600.0],
    "mel_norm": ["slaney", None],
    "htk": [False, True],
    "padding": ["hifigan", "center"],
}


def flite_speech(workdir: Path, sample_rate: int = 16000) -> list[np.ndarray]:
    """Synthesise every (voice, sentence) with flite, resampled to ``sample_rate``."""
    out = []
    for v in VOICES:
        for i, s in enumerate(SENTENCES):
            p = workdir / f"{v}_{i}.wav"
            subprocess.run(["flite", "-voice", v, "-t", s, "-o", str(p)], check=True)
            out.append(read_audio(p, sample_rate))
    return out


def mcd_dtw(ref: np.ndarray, syn: np.ndarray, workdir: Path, sample_rate: int = 16000) -> float:
    from pymcd.mcd import Calculate_MCD

    a, b = workdir / "ref.wav", workdir / "syn.wav"
    write_audio(a, ref, sample_rate)
    write_audio(b, syn, sample_rate)
    return float(Calculate_MCD(MCD_mode="dtw").calculate_mcd(str(a), str(b)))


def score(cfg: MelConfig, vocoder, speech: list[np.ndarray], workdir: Path) -> float:
    vals = []
    for wav in speech:
        m = torch.as_tensor(mel(wav, cfg))[None]
        syn = vocoder(m)[0].numpy()
        vals.append(mcd_dtw(wav, syn, workdir))
    return float(np.mean(vals))


def valid(cfg_kwargs: dict) -> bool:
    return cfg_kwargs["win_length"] <= cfg_kwargs["n_fft"]


def search(vocoder, speech, workdir: Path, log=print) -> tuple[MelConfig, float, list]:
    current = dataclasses.asdict(MelConfig())
    seen: dict = {}
    history = []

    def evaluate(kw):
        key = json.dumps(kw, sort_keys=True)
        if key not in seen:
            seen[key] = score(MelConfig(**kw), vocoder, speech, workdir)
            history.append({"config": dict(kw), "mcd": seen[key]})
            log(f"MCD {seen[key]:.3f}  {kw}")
        return seen[key]

    best = evaluate(current)
    for field, values in AXES.items():
        for v in values:
            kw = dict(current, **{field: v})
            if not valid(kw):
                continue
            s = evaluate(kw)
            if s < best - 1e-9:
                best, current = s, kw
    return MelConfig(**current), best, history


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocoder", default="hifigan-ts")
    ap.add_argument("--out", type=Path, default=None, help="write the search history as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from ttsf.vocoder import load_vocoder

    vocoder = load_vocoder(args.vocoder)
    with tempfile.TemporaryDirectory() as d:
        speech = flite_speech(Path(d))
        cfg, best, history = search(vocoder, speech, Path(d))
    print(f"best MCD (dtw, dB) {best:.3f}: {cfg}")
    if args.out:
        args.out.write_text(json.dumps({"best": dataclasses.asdict(cfg), "mcd": best, "history": history,
                                        "vocoder": vocoder.describe()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
