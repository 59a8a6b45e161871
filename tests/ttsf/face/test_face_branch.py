"""Face branch: shapes, QR-orthogonal motion codes, eq. 1 routing (hooked style inputs)."""

import pytest
import torch

from ttsf.face.config import FaceConfig
from ttsf.face.discriminator import Discriminator
from ttsf.face.fusion import fuse_styles
from ttsf.face.model import FaceBranch

TINY = dict(size=32, style_dim=16, channel_base=8, channel_max=16, n_motion=6)


def test_shapes_and_decomposition():
    torch.manual_seed(0)
    cfg = FaceConfig(**TINY)
    face = FaceBranch(cfg)
    img = torch.rand(3, 3, 32, 32) * 2 - 1
    enc = face.encode(img)
    assert cfg.n_layers == 4
    assert [tuple(f.shape) for f in enc["feats"]] == [(3, 16, 4, 4), (3, 16, 8, 8), (3, 16, 16, 16), (3, 8, 32, 32)]
    assert enc["f"].shape == enc["f_m"].shape == enc["f_id"].shape == (3, 16)
    assert enc["alpha"].shape == (3, 6)
    torch.testing.assert_close(enc["f_id"] + enc["f_m"], enc["f"])  # E_v(I) = f_id + f_m
    out = face.generate(enc["feats"], enc["f_id"], enc["f_m"])
    assert out.shape == (3, 3, 32, 32) and torch.isfinite(out).all()
    assert Discriminator(cfg)(out).shape == (3,)
    with pytest.raises(ValueError, match="expected 32x32"):
        face.encode(torch.zeros(1, 3, 64, 64))


def test_paper_layer_sets():
    cfg = FaceConfig()  # 256 px
    assert cfg.n_layers == 7
    assert cfg.lip_set == (6, 7) and cfg.motion_set == (1, 2, 3, 4, 5)
    with pytest.raises(ValueError, match="outside"):
        FaceConfig(size=64, lip_layers=(6,))
    with pytest.raises(ValueError, match="both lip and motion"):
        FaceConfig(size=64, lip_layers=(2,), motion_layers=(1, 2))


def test_motion_codes_are_orthonormal_and_f_m_lies_in_their_span():
    torch.manual_seed(1)
    face = FaceBranch(FaceConfig(**TINY))
    codes = face.motion.codes
    q = codes.basis()
    torch.testing.assert_close(q.T @ q, torch.eye(6), atol=1e-5, rtol=0)
    # still orthonormal after the raw weight is moved by an optimiser step
    opt = torch.optim.SGD(face.motion.parameters(), lr=0.5)
    face.motion(torch.randn(4, 16))[0].pow(2).sum().backward()
    opt.step()
    q2 = codes.basis()
    assert not torch.allclose(q, q2)
    torch.testing.assert_close(q2.T @ q2, torch.eye(6), atol=1e-5, rtol=0)
    f_m, alpha = face.motion(torch.randn(5, 16))
    torch.testing.assert_close(f_m, alpha @ q2.T)
    torch.testing.assert_close(f_m @ q2, alpha, atol=1e-5, rtol=1e-5)  # coordinates recovered


def _hook_styles(face):
    seen = {}

    def make(k):
        def hook(module, args):
            seen[k] = args[1].detach().clone()  # forward(x, style, feat, rgb_skip)
        return hook

    handles = [layer.register_forward_pre_hook(make(k + 1)) for k, layer in enumerate(face.generator.layers)]
    return seen, handles


def test_eq1_routing_lip_layers_receive_f_lip():
    torch.manual_seed(2)
    cfg = FaceConfig(**TINY)  # 4 layers: motion 1-2, lip 3-4
    face = FaceBranch(cfg)
    seen, handles = _hook_styles(face)
    f_id, f_m, f_lip = torch.randn(2, 16), torch.randn(2, 16), torch.randn(2, 16)
    enc = face.encode(torch.zeros(2, 3, 32, 32))
    face.generate(enc["feats"], f_id, f_m, f_lip)
    for h in handles:
        h.remove()
    assert sorted(seen) == [1, 2, 3, 4]
    for k in (1, 2):
        torch.testing.assert_close(seen[k], f_id + f_m)
    for k in (3, 4):
        torch.testing.assert_close(seen[k], f_id + f_lip)
    # f_lip changes only the lip layers' input
    assert not torch.allclose(seen[3], f_id + f_m)


def test_configurable_layer_sets_and_identity_only_layers():
    cfg = FaceConfig(**TINY, lip_layers=(2,), motion_layers=(1,))
    f_id, f_m, f_lip = torch.randn(2, 16), torch.randn(2, 16), torch.randn(2, 16)
    styles = fuse_styles(cfg, f_id, f_m, f_lip)
    assert styles.shape == (2, 4, 16)
    torch.testing.assert_close(styles[:, 0], f_id + f_m)
    torch.testing.assert_close(styles[:, 1], f_id + f_lip)
    torch.testing.assert_close(styles[:, 2], f_id)
    torch.testing.assert_close(styles[:, 3], f_id)
    # without audio (face warm-up) the lip layers fall back to f_m
    torch.testing.assert_close(fuse_styles(cfg, f_id, f_m, None)[:, 1], f_id + f_m)


def test_generator_depends_on_style_and_source():
    torch.manual_seed(3)
    face = FaceBranch(FaceConfig(**TINY)).eval()
    enc = face.encode(torch.rand(1, 3, 32, 32) * 2 - 1)
    a = face.generate(enc["feats"], enc["f_id"], enc["f_m"])
    b = face.generate(enc["feats"], enc["f_id"], enc["f_m"] + torch.randn(1, 16))
    enc2 = face.encode(torch.rand(1, 3, 32, 32) * 2 - 1)
    c = face.generate(enc2["feats"], enc["f_id"], enc["f_m"])
    assert (a - b).abs().mean() > 1e-3 and (a - c).abs().mean() > 1e-3
    frames = face.animate(enc, torch.randn(1, 5, 16), torch.randn(1, 5, 16), chunk=2)
    assert frames.shape == (1, 5, 3, 32, 32)


def test_lip_fusion_add_keeps_f_m_in_the_lip_layers():
    cfg = FaceConfig(**TINY, lip_fusion="add")  # motion 1-2, lip 3-4
    f_id, f_m, f_lip = torch.randn(2, 16), torch.randn(2, 16), torch.randn(2, 16)
    styles = fuse_styles(cfg, f_id, f_m, f_lip)
    for k in (0, 1):
        torch.testing.assert_close(styles[:, k], f_id + f_m)
    for k in (2, 3):
        torch.testing.assert_close(styles[:, k], f_id + f_m + f_lip)
    # f_lip = 0 gives exactly the face-only warm-up's styles (every layer f_id + f_m)
    torch.testing.assert_close(fuse_styles(cfg, f_id, f_m, torch.zeros_like(f_lip)), fuse_styles(cfg, f_id, f_m, None))
    paper = fuse_styles(FaceConfig(**TINY), f_id, f_m, f_lip)
    torch.testing.assert_close(paper[:, 2], f_id + f_lip)
    with pytest.raises(ValueError, match="lip_fusion"):
        FaceConfig(**TINY, lip_fusion="concat")
