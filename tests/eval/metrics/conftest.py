"""Shared speech fixtures for the audio-metric tests: flite voices from real speakers.

``flite`` (Debian package) synthesises the clips once per session; pitch-shifted copies
are made by resampling (tape-style: pitch and tempo both scale by 2^(k/12)).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

SENTENCE_A = "Please call Stella and ask her to bring these things with her from the store."
SENTENCE_B = "Six spoons of fresh snow peas and five thick slabs of blue cheese."
SAMPLE_RATE = 16000


def _flite(voice: str, text: str, out: Path) -> Path:
    if shutil.which("flite") is None:
        raise RuntimeError("the audio-metric tests need the `flite` binary (apt-get install flite)")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(out)], check=True)
    return out


def _write(path: Path, wav: np.ndarray) -> Path:
    from ttsf.media import write_audio

    write_audio(path, np.asarray(wav, dtype=np.float32), SAMPLE_RATE)
    return path


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> dict[str, Path]:
    """wav paths: ``slt_a``, ``slt_b`` (same voice, other sentence), ``rms_a``, ``awb_a``,
    ``slt_a_up2``/``slt_a_up4`` (pitch +2/+4 semitones), ``silence`` (1 s of zeros)."""
    from ttsf.media import read_audio, resample

    root = tmp_path_factory.mktemp("speech")
    clips = {
        "slt_a": _flite("slt", SENTENCE_A, root / "slt_a.wav"),
        "slt_b": _flite("slt", SENTENCE_B, root / "slt_b.wav"),
        "rms_a": _flite("rms", SENTENCE_A, root / "rms_a.wav"),
        "awb_a": _flite("awb", SENTENCE_A, root / "awb_a.wav"),
    }
    wav = read_audio(clips["slt_a"], SAMPLE_RATE)
    for k in (2, 4):
        shifted = resample(wav, int(round(SAMPLE_RATE * 2 ** (k / 12))), SAMPLE_RATE)
        clips[f"slt_a_up{k}"] = _write(root / f"slt_a_up{k}.wav", shifted)
    clips["silence"] = _write(root / "silence.wav", np.zeros(SAMPLE_RATE, dtype=np.float32))
    return clips


@pytest.fixture(scope="session")
def offline_wer():
    """The offline WER metric (faster-whisper, Whisper base CTranslate2), built once."""
    from eval.metrics import create

    return create("wer", backend="faster-whisper-base", threads=2)
