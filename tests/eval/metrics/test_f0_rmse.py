"""F0 RMSE: analytic tones, zero on identical audio, growth with pitch shift, NaN never 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.metrics import create
from eval.metrics.base import ItemError
from eval.metrics.functional import f0 as f0_math
from eval.metrics.sample import Sample
from ttsf.media import read_audio

SR = 16000


def _tone(f0: float, seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return sum(0.2 / h * np.sin(2 * np.pi * f0 * h * t) for h in range(1, 6)).astype(np.float32)


def test_rmse_on_path_by_hand():
    ref = np.array([100.0, 0.0, 120.0, 130.0])
    syn = np.array([110.0, 140.0, 0.0, 100.0])
    result = f0_math.rmse_on_path(ref, syn, [(0, 0), (1, 1), (2, 2), (3, 3)])
    assert result.voiced_pairs == 2 and result.aligned_pairs == 4
    assert result.rmse == pytest.approx(math.sqrt((10.0**2 + 30.0**2) / 2))
    none = f0_math.rmse_on_path(ref, np.zeros(4), [(i, i) for i in range(4)])
    assert math.isnan(none.rmse) and "no frame pair voiced in both" in none.reason


def test_harmonic_tones_give_their_frequency_difference():
    assert f0_math.f0_rmse(_tone(150.0), _tone(165.0), SR).rmse == pytest.approx(15.0, abs=0.5)
    assert f0_math.f0_rmse(_tone(150.0), _tone(150.0), SR).rmse == 0.0


def test_speech_zero_when_identical_and_grows_with_pitch_shift(speech):
    metric = create("f0_rmse")
    values = {k: metric.update(Sample(f"k{k}", gen_audio=speech[name], ref_audio=speech["slt_a"]))["f0_rmse"]
              for k, name in [(0, "slt_a"), (2, "slt_a_up2"), (4, "slt_a_up4")]}
    assert values[0] == 0.0
    assert 0 < values[2] < values[4]
    # a tape shift by r scales every F0 by r: the error is about rms(F0) * (r - 1)
    f0_ref, _ = f0_math.harvest(read_audio(speech["slt_a"], SR), SR)
    rms = float(np.sqrt(np.mean(f0_ref[f0_ref > 0] ** 2)))
    for k in (2, 4):
        assert values[k] == pytest.approx(rms * (2 ** (k / 12) - 1), rel=0.3)
    assert metric.compute()["n_items"] == 3


def test_silent_audio_is_an_error_never_zero(speech):
    metric = create("f0_rmse")
    with pytest.raises(ItemError) as info:
        metric.update(Sample("s", gen_audio=speech["silence"], ref_audio=speech["slt_a"]))
    assert info.value.code == "silent_audio"
    with pytest.raises(ItemError, match="no item was scored") as info:  # missing with a reason, never 0 or NaN
        metric.compute()
    assert info.value.code == "empty"
