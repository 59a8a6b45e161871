"""Speed paths of ``TTSF.synthesize`` give the previous path's output (issue 17).

The vocoder beside the video branch (``overlap=True``, the default) gives the serial run's
speech and frames exactly; the batched modulated convolution gives the grouped form's
frames to one uint8 level (seeded synthesis on the demo checkpoint).
"""

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "checkpoints" / "ttsf_synth.pt"


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (tests/ttsf/conftest.py)."""


@pytest.fixture(scope="module")
def model():
    from ttsf.synthesize import load_model

    return load_model(CHECKPOINT)


def test_overlapped_vocoder_gives_the_serial_output(model, tiny_corpus):
    portrait = str(tiny_corpus / "faces" / "id00.png")
    serial = model.synthesize("Hi there.", portrait, seed=5, steps=2, overlap=False)
    overlapped = model.synthesize("Hi there.", portrait, seed=5, steps=2)
    assert np.array_equal(serial.wav, overlapped.wav) and np.array_equal(serial.frames, overlapped.frames)
    assert serial.info == overlapped.info and len(serial.frames) == serial.info["n_frames"] > 0
    assert set(serial.timings) == set(overlapped.timings) and overlapped.timings["vocoder"] > 0


def test_batched_modulation_renders_the_grouped_frames(model, tiny_corpus, monkeypatch):
    from ttsf.face.layers import ModulatedConv2d

    portrait = str(tiny_corpus / "faces" / "id00.png")
    fast = model.synthesize("Hi there.", portrait, seed=6, steps=2)
    monkeypatch.setattr(ModulatedConv2d, "forward", ModulatedConv2d.forward_grouped)
    grouped = model.synthesize("Hi there.", portrait, seed=6, steps=2)
    assert np.array_equal(fast.wav, grouped.wav)
    assert np.abs(fast.frames.astype(int) - grouped.frames.astype(int)).max() <= 1
    assert np.mean(fast.frames != grouped.frames) < 0.01
