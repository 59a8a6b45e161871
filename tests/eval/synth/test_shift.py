"""Desynchronised copies: audio shifted by exactly F frames, video untouched."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.synth import SynthError, default_corpus, shift_corpus
from eval.synth.shift import shift_audio
from ttsf.data.manifest import load_manifest
from ttsf.media import read_audio, read_video


def _lag(reference: np.ndarray, other: np.ndarray, max_lag: int) -> int:
    """Lag (samples) maximising the correlation of ``other`` against ``reference``."""
    lags = range(-max_lag, max_lag + 1, 8)
    scores = [float(np.dot(reference[max_lag:-max_lag], np.roll(other, -lag)[max_lag:-max_lag])) for lag in lags]
    return list(lags)[int(np.argmax(scores))]


def test_shift_audio_function():
    a = np.arange(1, 6401, dtype=np.float32)
    late = shift_audio(a, 2)
    assert np.all(late[:1280] == 0) and np.array_equal(late[1280:], a[:-1280])
    early = shift_audio(a, -3)
    assert np.array_equal(early[:-1920], a[1920:]) and np.all(early[-1920:] == 0)


def test_cached_shifted_copy(tiny_corpus):
    shifted = default_corpus("tiny", shift_audio=3)
    assert shifted != tiny_corpus and (shifted / ".done").is_file()
    items = list(load_manifest(shifted / "synth_test.jsonl"))
    assert [it.id for it in items] == load_manifest(tiny_corpus / "synth_test.jsonl").ids()
    for item in items[:3]:
        orig_wav = read_audio(tiny_corpus / item.ref_audio)
        new_wav = read_audio(shifted / item.ref_audio)
        assert new_wav.shape == orig_wav.shape
        assert np.array_equal(new_wav[1920:], orig_wav[:-1920]) and not new_wav[:1920].any()
        orig, new = read_video(tiny_corpus / item.ref_video), read_video(shifted / item.ref_video)
        assert np.array_equal(orig.frames, new.frames)  # video packets copied as they were
        assert _lag(orig.audio, new.audio, 4000) == pytest.approx(1920, abs=8)  # the mp4 track moved too
        gt = json.loads((shifted / item.ref_video).with_suffix(".json").read_text())
        assert gt["av_offset_frames"] == 3
    index = json.loads((shifted / "corpus.json").read_text())
    source = json.loads((tiny_corpus / "corpus.json").read_text())
    assert index["av_offset_frames"] == 3 and index["shifted_from"] == source["content_hash"]


def test_negative_shift_and_errors(tiny_corpus, tmp_path):
    out = shift_corpus(tiny_corpus, -2, tmp_path / "early")
    item = load_manifest(out / "synth_train.jsonl").items[0]
    orig = read_video(tiny_corpus / item.ref_video).audio
    new = read_video(out / item.ref_video).audio
    assert _lag(orig, new, 4000) == pytest.approx(-1280, abs=8)
    with pytest.raises(SynthError, match="not an empty directory"):
        shift_corpus(tiny_corpus, 1, out)
    with pytest.raises(SynthError, match="not a complete synthetic corpus"):
        shift_corpus(tmp_path / "missing", 1, tmp_path / "x")
    with pytest.raises(SynthError, match="longer than the clip"):
        shift_corpus(tiny_corpus, 500, tmp_path / "huge")
    assert not (tmp_path / "huge").exists()
