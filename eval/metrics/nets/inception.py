"""pytorch-fid's InceptionV3 (pool3, 2048-d) built from a local weights file.

The architecture is pytorch-fid's own (torchvision InceptionV3 with its FID blocks);
only the loading differs: the file comes from :mod:`ttsf.weights` (``pt_inception``)
instead of a URL, so no download is attempted.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

FID_RESIZE = "bilinear 299x299 (torch F.interpolate, align_corners=False), as pytorch-fid"


def build_fid_inception(weights: Path | None) -> nn.Module:
    """The FID Inception trunk; ``weights=None`` keeps torch's default (seeded) init."""
    import torchvision
    from pytorch_fid import inception as pfi

    net = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
    net.Mixed_5b = pfi.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pfi.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pfi.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pfi.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pfi.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pfi.FIDInceptionE_1(1280)
    net.Mixed_7c = pfi.FIDInceptionE_2(2048)
    if weights is not None:
        from eval.metrics.nets.weights import load_state_dict

        net.load_state_dict(load_state_dict(weights))
    return net


class InceptionPool3(nn.Module):
    """Images ``(batch, 3, H, W)`` in [0, 1] -> pool3 features ``(batch, 2048)``.

    Same steps as ``pytorch_fid.inception.InceptionV3(resize_input=True,
    normalize_input=True)``, output block 3.
    """

    dims = 2048

    def __init__(self, net: nn.Module):
        super().__init__()
        self.trunk = nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, nn.MaxPool2d(3, 2),
            net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, nn.MaxPool2d(3, 2),
            net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a,
            net.Mixed_6b, net.Mixed_6c, net.Mixed_6d, net.Mixed_6e,
            net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, nn.AdaptiveAvgPool2d(1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        return self.trunk(x).flatten(1)
