"""A HiFi-GAN's speech in time pieces equals the whole-utterance call (issue 17)."""

from __future__ import annotations

import pytest
import torch

from ttsf.vocoder import load_vocoder
from ttsf.vocoder.chunks import vocoder_pieces
from ttsf.vocoder.hifigan import HifiGanConfig, HifiGanGenerator, HifiGanVocoder
from ttsf.vocoder.torchscript import HIFIGAN_TS_MEL, default_path


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """One torch thread (tests/ttsf/conftest.py)."""


def test_radius_bounds_what_an_output_sample_depends_on():
    """Gradient of one output sample of a random V1 generator: zero beyond the bound, not far inside it."""
    cfg = HifiGanConfig()
    assert cfg.receptive_radius == 16
    torch.manual_seed(0)
    g = HifiGanGenerator(cfg).eval()
    mel = (torch.randn(1, 80, 61) - 5).requires_grad_()
    g(mel)[0, 0, 30 * cfg.hop + cfg.hop // 2].backward()
    reach = mel.grad[0].abs().sum(0).nonzero()[:, 0]
    assert 30 - cfg.receptive_radius <= int(reach.min()) <= 30 - 12
    assert 30 + 12 <= int(reach.max()) <= 30 + cfg.receptive_radius


def test_pieces_with_the_radius_as_context_give_the_whole_call():
    torch.manual_seed(1)
    voc = HifiGanVocoder(HifiGanGenerator(HifiGanConfig()), HIFIGAN_TS_MEL)
    mel = torch.randn(1, 80, 150) - 5
    whole = voc(mel)
    pieces = vocoder_pieces(voc, mel, 3)
    assert len(pieces) == 3 and voc.context_frames == 16
    torch.testing.assert_close(torch.cat([p() for p in pieces], -1), whole, atol=1e-6, rtol=0)
    short = torch.cat([p() for p in vocoder_pieces(voc, mel, 3, context=4)], -1)
    assert (short - whole).abs().max() > 1e-4  # the context is what makes the pieces exact


def test_bundled_vocoder_pieces_and_unsplittable_vocoders():
    if not default_path().is_file():
        pytest.skip(f"bundled vocoder weights absent: {default_path()}")
    ts = load_vocoder("hifigan-ts")
    mel = torch.randn(1, 80, 200, generator=torch.Generator().manual_seed(2)) - 6
    pieces = vocoder_pieces(ts, mel, 2)
    assert len(pieces) == 2
    torch.testing.assert_close(torch.cat([p() for p in pieces], -1), ts(mel), atol=1e-5, rtol=0)
    assert len(vocoder_pieces(ts, mel[:, :, :60], 2)) == 1  # shorter than two contexts per piece
    assert len(vocoder_pieces(load_vocoder("griffin-lim", mel_config=HIFIGAN_TS_MEL), mel, 2)) == 1
