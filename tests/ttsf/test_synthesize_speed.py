"""Speed paths of ``TTSF.synthesize`` give the previous path's output (issue 17).

The vocoder's time pieces and the render's chunks shared by two threads (``overlap=True``,
the default) give the serial run's speech and frames exactly; the
batched modulated convolution gives the grouped form's frames to one uint8 level
(seeded synthesis on the demo checkpoint).
"""

from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "checkpoints" / "ttsf_synth.pt"


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (tests/ttsf/conftest.py)."""


@pytest.fixture(scope="module")
def model():
    from ttsf.synthesize import load_model

    return load_model(CHECKPOINT)


def test_two_threads_give_the_serial_output(model, tiny_corpus):
    """Vocoder pieces and render chunks shared by two threads: the serial run's output exactly (the
    speech is the same two pieces in every mode; pieces vs one call: tests/ttsf/vocoder/test_chunks.py)."""
    portrait = str(tiny_corpus / "faces" / "id00.png")
    text = "Hi there, this sentence is long enough for two vocoder pieces."
    serial = model.synthesize(text, portrait, seed=5, steps=2, overlap=False)
    shared = model.synthesize(text, portrait, seed=5, steps=2)
    assert len(serial.wav) >= 4 * 16 * 160  # two pieces of at least two 16-frame contexts each
    assert np.array_equal(serial.frames, shared.frames) and np.array_equal(serial.wav, shared.wav)
    assert serial.info == shared.info and len(serial.frames) == serial.info["n_frames"] > 16
    assert set(serial.timings) == set(shared.timings) and shared.timings["vocoder"] > 0


def test_batched_modulation_renders_the_grouped_frames(model, tiny_corpus, monkeypatch):
    """Also the fused epilogue of StyledConv (gain in the demodulation, in-place leaky ReLU), the
    modulation before the channels-last upsampling (the reference: NCHW upsampling, then the
    modulation in ``forward_grouped``)."""
    from ttsf.face import generator, layers

    def styled_reference(self, x, style):
        return layers.lrelu(self.conv(x, style) + self.bias)

    def upsample_reference(x):
        return torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)

    portrait = str(tiny_corpus / "faces" / "id00.png")
    fast = model.synthesize("Hi there.", portrait, seed=6, steps=2)
    monkeypatch.setattr(layers.ModulatedConv2d, "forward", layers.ModulatedConv2d.forward_grouped)
    monkeypatch.setattr(layers.StyledConv, "forward", styled_reference)
    monkeypatch.setattr(generator, "upsample2x", upsample_reference)
    grouped = model.synthesize("Hi there.", portrait, seed=6, steps=2)
    assert np.array_equal(fast.wav, grouped.wav)
    assert np.abs(fast.frames.astype(int) - grouped.frames.astype(int)).max() <= 1
    assert np.mean(fast.frames != grouped.frames) < 0.01
