"""Sync loss ``1 - cos(S_v(Î), S_a(A))`` through a pluggable, frozen SyncNet.

The SyncNet is a module with ``embed_video(frames (N, 5, 3, H, W) in [-1, 1]) -> (N, D)``
and ``embed_audio(mel (N, 80, 20)) -> (N, D)`` (5 video frames ↔ 20 mel frames at 100/s).
Backends: ``torchscript:<path>`` (such a scripted module) or ``none``. Without a SyncNet
the loss is off and the run config says so; it is never replaced by a fake value.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from eval.metrics.base import MissingWeights

WINDOW = 5  # video frames per SyncNet window
MEL_PER_FRAME = 4


class SyncLoss(nn.Module):
    """``forward(frames (B, T, 3, H, W), mel (B, 80, 4T)) -> scalar`` over all 5-frame windows."""

    def __init__(self, syncnet: nn.Module, describe: dict):
        super().__init__()
        self.syncnet = syncnet
        self.info = describe
        for p in self.syncnet.parameters():
            p.requires_grad_(False)

    def describe(self) -> dict:
        return dict(self.info)

    def forward(self, frames: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        b, t = frames.shape[:2]
        if t < WINDOW:
            raise ValueError(f"sync loss needs >= {WINDOW} frames, got {t}")
        starts = range(0, t - WINDOW + 1, WINDOW)
        vids = torch.stack([frames[:, s:s + WINDOW] for s in starts], 1).flatten(0, 1)
        mels = torch.stack([mel[:, :, MEL_PER_FRAME * s: MEL_PER_FRAME * (s + WINDOW)] for s in starts], 1)
        mels = mels.flatten(0, 1)
        ev = self.syncnet.embed_video(vids)
        with torch.no_grad():
            ea = self.syncnet.embed_audio(mels)
        return (1 - F.cosine_similarity(ev, ea, dim=1)).mean()


def build_sync_loss(spec: str) -> Optional[SyncLoss]:
    if spec == "none":
        return None
    if spec.startswith("torchscript:"):
        path = Path(spec.split(":", 1)[1]).expanduser()
        if not path.is_file():
            raise MissingWeights(
                f"sync loss SyncNet {path} not found: script a SyncNet exposing embed_video/embed_audio "
                "(see ttsf/losses/sync.py) and pass its path, or set losses.sync_backend: none")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return SyncLoss(torch.jit.load(str(path), map_location="cpu").eval(),
                        {"backend": "torchscript", "path": str(path), "sha256": sha})
    raise ValueError(f"unknown sync backend {spec!r} (none, torchscript:<path>)")
