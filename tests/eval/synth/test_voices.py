"""Voices: deterministic synthesis at 16 kHz, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from eval.synth.corpus import prepare_speech
from eval.synth.voices import DEFAULT_VOICES, VOICES, VoiceError, get_voice, synthesise


def test_voice_table():
    assert len(DEFAULT_VOICES) == 8 and set(DEFAULT_VOICES) <= set(VOICES)
    assert {VOICES[v].engine for v in DEFAULT_VOICES} == {"flite", "espeak-ng"}
    assert sum(VOICES[v].engine == "flite" for v in DEFAULT_VOICES) == 4
    with pytest.raises(VoiceError, match="unknown voice 'nope'; known voices: .*flite_slt"):
        get_voice("nope")


@pytest.mark.parametrize("voice", ["flite_slt", "espeak_gb_m3"])
def test_synthesis_is_deterministic_speech(voice):
    a = synthesise("The red bus is late again.", voice)
    b = synthesise("The red bus is late again.", voice)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert 0.8 * 16000 < a.shape[0] < 4 * 16000 and np.abs(a).max() > 0.1
    other = synthesise("The red bus is late again.", "flite_awb" if voice == "flite_slt" else "espeak_us_f2")
    assert other.shape != a.shape or not np.allclose(other, a)


def test_prepare_speech_trims_and_normalises():
    rng = np.random.default_rng(0)
    raw = np.concatenate([np.zeros(8000), 0.05 * rng.standard_normal(16000), np.zeros(8000)]).astype(np.float32)
    out = prepare_speech(raw)
    assert 16000 <= out.shape[0] <= 16000 + 5 * 160
    assert np.sqrt(np.mean(out.astype(np.float64) ** 2)) == pytest.approx(0.1, rel=0.05)
