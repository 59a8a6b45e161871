"""Head-pose math: bin logits -> degrees (Hopenet/WHENet) and the diversity statistic."""

from __future__ import annotations

import numpy as np
import torch


def bins_to_degrees(logits: torch.Tensor, width: float = 3.0, offset: float = -99.0) -> torch.Tensor:
    """Expected angle of binned logits ``(batch, bins)``: ``sum(softmax * idx) * width + offset``.

    Hopenet (66 bins): ``width=3, offset=-99``; WHENet yaw (120 bins): ``offset=-180``.
    """
    index = torch.arange(logits.shape[-1], dtype=logits.dtype, device=logits.device)
    return (torch.softmax(logits, -1) * index).sum(-1) * width + offset


def pose_diversity(angles: np.ndarray) -> float:
    """SadTalker's diversity: standard deviation over time of each head-pose feature
    (yaw, pitch, roll in degrees), averaged over the features.

    Args:
        angles: ``(frames, 3)``.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 2 or len(angles) < 2:
        raise ValueError(f"need (frames >= 2, features) angles, got shape {angles.shape}")
    return float(np.std(angles, axis=0).mean())
