"""SyncNet (Chung & Zisserman 2016) as in joonson/syncnet_python ``SyncNetModel.S``.

Same layers and parameter names as the reference, so ``syncnet_v2.model`` loads
directly; ``width`` scales every hidden channel count (1.0 = the reference; the
project's offline model uses a reduced width). Inputs:

- lips: BGR crops as float 0..255, ``(batch, 3, 5, 224, 224)`` (5 frames at 25 fps);
- audio: MFCC ``(batch, 1, 13, 20)`` (13 coefficients x 20 frames at 100 Hz).

Both streams return embeddings ``(batch, embed_dim)``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


def _c(channels: int, width: float) -> int:
    return max(8, int(round(channels * width)))


class SyncNet(nn.Module):
    def __init__(self, width: float = 1.0, embed_dim: int = 1024):
        super().__init__()
        self.width = width
        self.embed_dim = embed_dim
        a = [_c(c, width) for c in (64, 192, 384, 256, 256, 512)]
        self.netcnnaud = nn.Sequential(
            nn.Conv2d(1, a[0], 3, 1, 1), nn.BatchNorm2d(a[0]), nn.ReLU(inplace=True),
            nn.MaxPool2d(1, 1),
            nn.Conv2d(a[0], a[1], 3, 1, 1), nn.BatchNorm2d(a[1]), nn.ReLU(inplace=True),
            nn.MaxPool2d((3, 3), (1, 2)),
            nn.Conv2d(a[1], a[2], 3, padding=1), nn.BatchNorm2d(a[2]), nn.ReLU(inplace=True),
            nn.Conv2d(a[2], a[3], 3, padding=1), nn.BatchNorm2d(a[3]), nn.ReLU(inplace=True),
            nn.Conv2d(a[3], a[4], 3, padding=1), nn.BatchNorm2d(a[4]), nn.ReLU(inplace=True),
            nn.MaxPool2d((3, 3), (2, 2)),
            nn.Conv2d(a[4], a[5], (5, 4), padding=0), nn.BatchNorm2d(a[5]), nn.ReLU(),
        )
        self.netfcaud = nn.Sequential(
            nn.Linear(a[5], a[5]), nn.BatchNorm1d(a[5]), nn.ReLU(), nn.Linear(a[5], embed_dim),
        )
        v = [_c(c, width) for c in (96, 256, 256, 256, 256, 512)]
        self.netfclip = nn.Sequential(
            nn.Linear(v[5], v[5]), nn.BatchNorm1d(v[5]), nn.ReLU(), nn.Linear(v[5], embed_dim),
        )
        self.netcnnlip = nn.Sequential(
            nn.Conv3d(3, v[0], (5, 7, 7), (1, 2, 2), 0), nn.BatchNorm3d(v[0]), nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            nn.Conv3d(v[0], v[1], (1, 5, 5), (1, 2, 2), (0, 1, 1)), nn.BatchNorm3d(v[1]), nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            nn.Conv3d(v[1], v[2], (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(v[2]), nn.ReLU(inplace=True),
            nn.Conv3d(v[2], v[3], (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(v[3]), nn.ReLU(inplace=True),
            nn.Conv3d(v[3], v[4], (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(v[4]), nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            nn.Conv3d(v[4], v[5], (1, 6, 6), padding=0), nn.BatchNorm3d(v[5]), nn.ReLU(inplace=True),
        )

    def forward_aud(self, mfcc: torch.Tensor) -> torch.Tensor:
        """``(batch, 1, 13, 20)`` -> ``(batch, embed_dim)``."""
        return self.netfcaud(self.netcnnaud(mfcc).flatten(1))

    def forward_lip(self, lips: torch.Tensor) -> torch.Tensor:
        """``(batch, 3, 5, 224, 224)`` BGR 0..255 -> ``(batch, embed_dim)``."""
        return self.netfclip(self.netcnnlip(lips).flatten(1))


def load_syncnet(path, width: Optional[float] = None) -> SyncNet:
    """A SyncNet from a checkpoint, in eval mode.

    Accepts the reference state dict (``syncnet_v2.model``; width 1.0) or this project's
    checkpoint ``{"state_dict", "width", "embed_dim", ...}``.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        net = SyncNet(width=float(state["width"]), embed_dim=int(state["embed_dim"]))
        net.load_state_dict(state["state_dict"])
    else:
        embed_dim = state["netfcaud.3.weight"].shape[0]
        net = SyncNet(width=1.0 if width is None else width, embed_dim=embed_dim)
        net.load_state_dict(state)
    return net.eval()
