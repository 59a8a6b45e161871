"""Inference CLI and Python API on a small random-weight checkpoint: files, determinism, errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from ttsf.media import read_audio
from ttsf.tts.checkpoint import save_checkpoint
from ttsf.tts.config import TTSConfig
from ttsf.tts.model import TTS
from ttsf.vocoder.torchscript import default_path

pytestmark = [
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng binary not installed"),
    pytest.mark.skipif(not default_path().is_file(), reason=f"bundled vocoder absent: {default_path()}"),
]


@pytest.fixture
def ckpt(tmp_path, tiny):
    torch.manual_seed(0)
    cfg = TTSConfig(**tiny, cond_mode="speaker_embedding", cond_dim=8, n_speakers=2, mel_mean=-6.0, mel_std=2.5)
    model = TTS(cfg)
    with torch.no_grad():
        model.duration.proj.bias.fill_(1.0)  # ~3 frames per token
    return save_checkpoint(tmp_path / "tts.pt", model, cfg, ["alice", "bob"], half=True)


def test_cli_same_seed_same_audio(ckpt, tmp_path, capsys):
    from ttsf.tts.synthesize import main

    args = ["--text", "Hello there, 2 cats.", "--checkpoint", str(ckpt), "--speaker", "bob", "--steps", "3"]
    assert main(args + ["--out", str(tmp_path / "a.wav"), "--seed", "3"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(args + ["--out", str(tmp_path / "b.wav"), "--seed", "3"]) == 0
    assert main(args + ["--out", str(tmp_path / "c.wav"), "--seed", "4"]) == 0
    a, b, c = (read_audio(tmp_path / f"{n}.wav", None) for n in "abc")
    assert len(a) == 160 * info["mel_frames"] and info["n_steps"] == 3 and info["seed"] == 3
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(a).max() > 0


def test_python_api_features_and_speakers(ckpt):
    from ttsf.tts.synthesize import Synthesizer

    synth = Synthesizer(ckpt)
    out = synth("Good morning.", speaker="alice", n_steps=2, seed=0)
    n = out.features["mel_length"]
    assert out.sample_rate == 16000 and out.wav.shape == (160 * n,) and out.mel.shape == (80, n)
    assert out.features["f_tilde"].shape == (synth.model.d_enc, n) and out.features["energy"].shape == (1, n)
    assert int(out.features["durations"].sum()) == n and len(out.tokens) == out.features["e_t"].shape[-1]
    other = synth("Good morning.", speaker="bob", n_steps=2, seed=0)
    assert other.wav.shape != out.wav.shape or not np.array_equal(other.wav, out.wav)
    with pytest.raises(ValueError, match="did you mean 'alice'"):
        synth("Good morning.", speaker="alise")
    with pytest.raises(ValueError, match="choose a speaker"):
        synth("Good morning.")


def test_vocoder_recipe_mismatch_is_an_error(ckpt, tmp_path, tiny):
    from ttsf.media import MelConfig
    from ttsf.tts.synthesize import Synthesizer
    from ttsf.vocoder import VocoderError

    cfg = TTSConfig(**tiny, mel=MelConfig())  # the paper's 640-sample window: not the bundled vocoder's
    save_checkpoint(tmp_path / "other.pt", TTS(cfg), cfg)
    with pytest.raises(VocoderError, match="win_length"):
        Synthesizer(tmp_path / "other.pt")
