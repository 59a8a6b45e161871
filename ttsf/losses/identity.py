"""Identity loss ``1 - cos(E_id(Î), E_id(I))`` through a differentiable face recogniser.

No differentiable face recogniser ships offline, so the recogniser is pluggable:

* ``torchscript:<path>`` — a TorchScript module mapping ``(B, 3, 112, 112)`` RGB in [-1, 1]
  to ``(B, D)`` embeddings (e.g. an exported insightface ArcFace iResNet-50; the paper
  used CurricularFace). Its sha256 is recorded.
* ``imagenet_proxy`` — pooled deepest features of the frozen perceptual network
  (ImageNet MobileNetV2/VGG19). NOT a face recogniser: a declared proxy for CPU runs.
* ``none`` — no identity loss (the run config records why).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from eval.metrics.base import MissingWeights


class _ImagenetProxy(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features = features

    def forward(self, img):
        return self.features(img)[-1].mean((2, 3))


class IdentityLoss(nn.Module):
    """``forward(fake (B,3,H,W), real (B,3,H,W)) -> scalar`` mean of ``1 - cos``."""

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
    """``spec``: ``none`` | ``imagenet_proxy`` | ``torchscript:<path>`` (see module doc)."""
    if spec == "none":
        return None
    if spec == "imagenet_proxy":
        if perceptual is None:
            raise ValueError("identity backend imagenet_proxy needs the perceptual network")
        return IdentityLoss(_ImagenetProxy(perceptual), None,
                            {"backend": "imagenet_proxy", "note": "not a face recogniser",
                             **{f"features_{k}": v for k, v in perceptual.describe().items()}})
    if spec.startswith("torchscript:"):
        path = Path(spec.split(":", 1)[1]).expanduser()
        if not path.is_file():
            raise MissingWeights(
                f"identity loss recogniser {path} not found: export a face recogniser (e.g. insightface "
                "ArcFace iResNet-50 from deepinsight/insightface arcface_torch, ms1mv3_arcface_r50) with "
                "torch.jit.script/trace taking (B,3,112,112) RGB in [-1,1], and pass its path")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return IdentityLoss(torch.jit.load(str(path), map_location="cpu").eval(), 112,
                            {"backend": "torchscript", "path": str(path), "sha256": sha})
    raise ValueError(f"unknown identity backend {spec!r} (none, imagenet_proxy, torchscript:<path>)")
