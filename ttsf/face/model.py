"""The face branch: E_v, E_m, motion fusion and G wired together."""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from ttsf.face.config import FaceConfig
from ttsf.face.encoder import VisualEncoder
from ttsf.face.fusion import fuse_styles
from ttsf.face.generator import Generator
from ttsf.face.motion_extractor import MotionExtractor


class FaceBranch(nn.Module):
    """TTSF's talking-face generator (LIA-style, identity and motion extracted independently).

    Images are ``(B, 3, size, size)`` floats in [-1, 1].
    """

    def __init__(self, cfg: FaceConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = VisualEncoder(cfg)
        self.motion = MotionExtractor(cfg)
        self.generator = Generator(cfg)

    def encode(self, img: torch.Tensor) -> dict:
        """``f = E_v(I)``, ``f_m = E_m(f)``, ``f_id = f - f_m`` (all ``(B, style_dim)``),
        ``alpha`` ``(B, n_motion)`` and the multi-scale ``feats``."""
        f, feats = self.encoder(img)
        f_m, alpha = self.motion(f)
        return {"f": f, "f_m": f_m, "f_id": f - f_m, "alpha": alpha, "feats": feats}

    def motion_of(self, img: torch.Tensor) -> torch.Tensor:
        """Motion feature ``f_m`` ``(B, style_dim)`` of images (driving frames)."""
        f, _ = self.encoder(img)
        return self.motion(f)[0]

    def generate(self, feats: list[torch.Tensor], f_id: torch.Tensor, f_m: torch.Tensor,
                 f_lip: Optional[torch.Tensor] = None) -> torch.Tensor:
        """One frame per row: feats of the source (batch N), f_id/f_m/f_lip ``(N, style_dim)``."""
        return self.generator(feats, fuse_styles(self.cfg, f_id, f_m, f_lip))

    def animate(self, source: dict, f_m: torch.Tensor, f_lip: Optional[torch.Tensor] = None,
                chunk: int = 16) -> torch.Tensor:
        """Render a sequence from one encoded source.

        source: :meth:`encode` of ``(B, 3, S, S)``; f_m, f_lip: ``(B, T, style_dim)``.
        Returns frames ``(B, T, 3, S, S)``; frames are rendered ``chunk`` at a time.
        """
        return torch.stack([torch.cat([render() for render in self.frame_chunks(source, f_m, f_lip, chunk, i)], 0)
                            for i in range(f_m.shape[0])], 0)

    def frame_chunks(self, source: dict, f_m: torch.Tensor, f_lip: Optional[torch.Tensor] = None,
                     chunk: int = 16, i: int = 0) -> list[Callable[[], torch.Tensor]]:
        """Sample ``i`` of :meth:`animate` as calls that render ``chunk`` frames each.

        Concatenated in order, their outputs ``(n, 3, S, S)`` are :meth:`animate`'s frames
        of sample ``i``; they are independent, so any thread may run any of them.
        """
        feats = [x[i:i + 1] for x in source["feats"]]
        t = f_m.shape[1]

        def render(s: int) -> Callable[[], torch.Tensor]:
            n = min(chunk, t - s)
            fe = [x.expand(n, -1, -1, -1) for x in feats]
            fid = source["f_id"][i:i + 1].expand(n, -1)
            lip = f_lip[i, s:s + n] if f_lip is not None else None
            return lambda: self.generate(fe, fid, f_m[i, s:s + n], lip)

        return [render(s) for s in range(0, t, chunk)]
