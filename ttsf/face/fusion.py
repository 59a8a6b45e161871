"""Motion fusion, eq. 1 of the paper: per-layer styles from f_id, f_m and f_lip."""

from __future__ import annotations

from typing import Optional

import torch

from ttsf.face.config import FaceConfig


def fuse_styles(cfg: FaceConfig, f_id: torch.Tensor, f_m: torch.Tensor,
                f_lip: Optional[torch.Tensor]) -> torch.Tensor:
    """Styles ``(N, n_layers, style_dim)`` for the generator.

    f_id, f_m, f_lip: ``(N, style_dim)``. Layer k gets ``f_id + f_m`` if k is a motion
    layer, ``f_id + f_lip`` if k is a lip layer (``f_id + f_m + f_lip`` with
    ``cfg.lip_fusion == "add"``) and ``f_id`` otherwise. ``f_lip=None`` (face-only warm-up, no
    audio) sends ``f_id + f_m`` to the lip layers as well.
    """
    styles = []
    lip, motion = set(cfg.lip_set), set(cfg.motion_set)
    for k in range(1, cfg.n_layers + 1):
        if k in lip:
            if f_lip is None:
                styles.append(f_id + f_m)
            elif cfg.lip_fusion == "add":
                styles.append(f_id + f_m + f_lip)
            else:
                styles.append(f_id + f_lip)
        elif k in motion:
            styles.append(f_id + f_m)
        else:
            styles.append(f_id)
    return torch.stack(styles, dim=1)
