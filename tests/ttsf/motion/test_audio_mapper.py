"""Audio mapper: duration expansion, ablation inputs, valid (unpadded) convs + interpolation."""

import pytest
import torch

from ttsf.motion.audio_mapper import AudioMapper, expand_by_durations
from ttsf.motion.config import MotionConfig

SMALL = dict(motion_dim=8, d_emb=4, d_enc=6, mapper_channels=8, mapper_kernels=(3, 5), mapper_dilations=(1, 2),
             mapper_stages=1)


def _features(b=2, lt=5, lm=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"e_t": torch.randn(b, 4, lt, generator=g), "f_tilde": torch.randn(b, 6, lm, generator=g),
            "energy": torch.randn(b, 1, lm, generator=g), "durations": torch.full((b, lt), lm / lt),
            "mel_lengths": torch.full((b,), lm)}


def test_expand_by_durations():
    e = torch.arange(6.0).view(1, 2, 3)  # 2 channels, 3 tokens
    out = expand_by_durations(e, torch.tensor([[2.0, 0.0, 3.0]]), 6)
    assert out.tolist() == [[[0, 0, 2, 2, 2, 0], [3, 3, 5, 5, 5, 0]]]


def test_inputs_per_ablation():
    feats = _features()
    for inputs, c in ((("e_t",), 4), (("e_t", "f_tilde"), 10), (("e_t", "f_tilde", "energy"), 11)):
        m = AudioMapper(MotionConfig(**SMALL, mapper_inputs=inputs))
        assert m.condition(feats).shape == (2, c, 60)
        assert m.pre.in_channels == c
    with pytest.raises(ValueError):
        MotionConfig(mapper_inputs=("f_tilde",))


def test_output_length_masking_and_no_padding():
    torch.manual_seed(0)
    m = AudioMapper(MotionConfig(**SMALL)).eval()
    assert m.reduction == (5 - 1) * (1 + 2)  # widest kernel's valid-conv shrinkage
    feats = _features()
    feats["mel_lengths"] = torch.tensor([60, 40])
    out = m(feats, torch.tensor([15, 10]))
    assert out.shape == (2, 15, 8)
    assert out[1, 10:].abs().sum() == 0 and out[1, :10].abs().sum() > 0
    # no padding: perturbing only the first mel frames leaves the last video frame unchanged,
    # and the first video frame is affected (it is the interpolated first valid output)
    base = m(_features(), torch.tensor([15, 15]))
    f2 = _features()
    f2["f_tilde"][:, :, :3] += 5.0
    pert = m(f2, torch.tensor([15, 15]))
    assert (pert[:, 0] - base[:, 0]).abs().max() > 1e-4
    torch.testing.assert_close(pert[:, -1], base[:, -1])


def test_short_inputs_are_stretched_not_failed():
    m = AudioMapper(MotionConfig(**SMALL))
    feats = _features(lm=6)
    assert m(feats, torch.tensor([2, 2])).shape == (2, 2, 8)


def test_zero_init_starts_f_lip_at_zero_and_still_learns():
    torch.manual_seed(0)
    default = AudioMapper(MotionConfig(**SMALL))
    assert default(_features(), torch.tensor([15, 15])).abs().max() > 1e-3
    m = AudioMapper(MotionConfig(**SMALL, mapper_zero_init=True))
    out = m(_features(), torch.tensor([15, 15]))
    assert out.abs().max() == 0
    (out * torch.randn_like(out)).sum().backward()
    assert m.post.weight.grad.abs().max() > 0  # the output layer gets a gradient at step 0
    # only the output layer is zeroed: the rest is the default initialisation
    assert m.pre.weight.abs().max() > 0 and MotionConfig(mapper_zero_init=True).to_dict()["mapper_zero_init"]
