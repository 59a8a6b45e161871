"""Sync loss through a pluggable, frozen SyncNet.

Backends:

- ``torchscript:<path>``: a scripted module with ``embed_video(frames (N, 5, 3, H, W) in
  [-1, 1]) -> (N, D)`` and ``embed_audio(mel (N, 80, 20)) -> (N, D)`` (5 video frames ↔ 20
  mel frames at 100/s); loss ``1 - cos(S_v(Î), S_a(A))`` (Wav2Lip-style experts).
- ``syncnet:<path>``: a syncnet_python-architecture SyncNet checkpoint (``syncnet_v2.model``
  or this project's ``python -m eval.metrics.lse train`` output) through
  :class:`SyncNetAdapter`: frames are turned into the network's BGR 0..255 224x224 input
  (bilinear; ``crop = (x1, y1, x2, y2)`` in frame fractions first cuts the region that
  syncnet_python's face-track crop covers, grey-110 beyond the frame as there), the audio
  side takes 13-d MFCCs (``ttsf.pretrained.mfcc.mfcc``, 100/s);
  loss = mean Euclidean distance of the aligned video/audio embeddings, the quantity whose
  minimum over offsets is LSE-D.
- ``none``. Without a SyncNet the loss is off and the run config says so; it is never
  replaced by a fake value.

:attr:`SyncLoss.audio_feature` says which batch field feeds the audio side (``mel`` or
``mfcc``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ttsf.hashing import sha256_file
from ttsf.weights.errors import MissingWeights

WINDOW = 5  # video frames per SyncNet window
MEL_PER_FRAME = 4


class SyncNetAdapter(nn.Module):
    """A syncnet_python SyncNet behind the ``embed_video`` / ``embed_audio`` interface."""

    def __init__(self, net: nn.Module, crop: Optional[Sequence[float]] = None):
        super().__init__()
        self.net = net
        if crop is not None and (len(crop) != 4 or not (crop[0] < crop[2] and crop[1] < crop[3])):
            raise ValueError(f"crop must be (x1, y1, x2, y2) with x1 < x2 and y1 < y2, got {crop!r}")
        self.crop = None if crop is None else tuple(float(v) for v in crop)

    def embed_video(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, 5, 3, H, W)`` RGB in [-1, 1] -> ``(N, D)``."""
        n, t, c, h, w = frames.shape
        x = ((frames.flip(2) + 1.0) * 127.5).reshape(n * t, c, h, w)  # RGB -> BGR, 0..255
        if self.crop is not None:
            x1, y1, x2, y2 = self.crop
            theta = torch.tensor([[x2 - x1, 0.0, x1 + x2 - 1.0], [0.0, y2 - y1, y1 + y2 - 1.0]],
                                 dtype=x.dtype, device=x.device).expand(n * t, 2, 3)
            grid = F.affine_grid(theta, (n * t, c, 224, 224), align_corners=False)
            x = F.grid_sample(x - 110.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 110.0
        elif (h, w) != (224, 224):
            x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
        return self.net.forward_lip(x.reshape(n, t, c, 224, 224).permute(0, 2, 1, 3, 4))

    def embed_audio(self, mfcc: torch.Tensor) -> torch.Tensor:
        """``(N, 13, 20)`` MFCC -> ``(N, D)``."""
        return self.net.forward_aud(mfcc[:, None])


class SyncLoss(nn.Module):
    """``forward(frames (B, T, 3, H, W), audio (B, F, 4T)) -> scalar`` over all 5-frame windows."""

    def __init__(self, syncnet: nn.Module, describe: dict, distance: str = "cosine", audio_feature: str = "mel"):
        super().__init__()
        if distance not in ("cosine", "euclidean"):
            raise ValueError(f"distance must be cosine or euclidean, got {distance!r}")
        self.syncnet = syncnet
        self.distance = distance
        self.audio_feature = audio_feature
        self.info = {**describe, "distance": distance, "audio_feature": audio_feature}
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
        if self.distance == "euclidean":
            return torch.sqrt(((ev - ea) ** 2).sum(1) + 1e-8).mean()
        return (1 - F.cosine_similarity(ev, ea, dim=1)).mean()

    def train(self, mode: bool = True) -> "SyncLoss":
        """The SyncNet stays in eval mode (frozen batch-norm statistics)."""
        super().train(mode)
        self.syncnet.eval()
        return self


def _weights_file(spec: str, hint: str) -> tuple[Path, str]:
    """(path, sha256) of the SyncNet file named by ``<backend>:<path>``; MissingWeights (with
    ``hint``) when it does not exist."""
    path = Path(spec.split(":", 1)[1]).expanduser()
    if not path.is_file():
        raise MissingWeights(f"sync loss SyncNet {path} not found: {hint}")
    return path, sha256_file(path)


def build_sync_loss(spec: str, crop: Optional[Sequence[float]] = None) -> Optional[SyncLoss]:
    """The sync loss of a ``losses.sync`` spec; ``crop`` (``losses.sync_crop``) applies to ``syncnet:``."""
    if spec == "none":
        return None
    if spec.startswith("torchscript:"):
        path, sha = _weights_file(spec, "script a SyncNet exposing embed_video/embed_audio "
                                        "(see ttsf/losses/sync.py) and pass its path, or set losses.sync_backend: none")
        return SyncLoss(torch.jit.load(str(path), map_location="cpu").eval(),
                        {"backend": "torchscript", "path": str(path), "sha256": sha})
    if spec.startswith("syncnet:"):
        from ttsf.pretrained.syncnet import load_syncnet

        path, sha = _weights_file(spec, "train one with `python -m eval.metrics.lse train` or pass syncnet_v2.model "
                                        "(`python -m eval.weights download syncnet_v2`), or set losses.sync: none")
        adapter = SyncNetAdapter(load_syncnet(path), crop).eval()
        return SyncLoss(adapter, {"backend": "syncnet", "path": str(path), "sha256": sha, "crop": adapter.crop},
                        distance="euclidean", audio_feature="mfcc")
    raise ValueError(f"unknown sync backend {spec!r} (none, torchscript:<path>, syncnet:<path>)")
