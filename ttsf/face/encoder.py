"""Visual encoder E_v (LIA style): image -> latent f = E_v(I) and multi-scale features."""

from __future__ import annotations

import math

import torch
from torch import nn

from ttsf.face.config import FaceConfig
from ttsf.face.layers import ConvLayer, EqualConv2d, EqualLinear, ResBlock, lrelu


class VisualEncoder(nn.Module):
    """E_v: ``(B, 3, size, size)`` in [-1, 1] -> ``(latent (B, style_dim), feats)``.

    ``feats`` is a list of ``n_layers`` feature maps ordered by the generator's layers:
    ``feats[k-1]`` has shape ``(B, cfg.channels(r_k), r_k, r_k)`` with ``r_k = 4·2^(k-1)``.
    """

    def __init__(self, cfg: FaceConfig):
        super().__init__()
        self.cfg = cfg
        size = cfg.size
        self.from_rgb = ConvLayer(3, cfg.channels(size), 1)
        blocks = []
        res = size
        while res > 4:
            blocks.append(ResBlock(cfg.channels(res), cfg.channels(res // 2)))
            res //= 2
        self.blocks = nn.ModuleList(blocks)
        c4 = cfg.channels(4)
        self.final_conv = EqualConv2d(c4, c4, 4)  # 4x4 -> 1x1
        self.final_linear = EqualLinear(c4, cfg.style_dim)

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if img.shape[-1] != self.cfg.size or img.shape[-2] != self.cfg.size:
            raise ValueError(f"expected {self.cfg.size}x{self.cfg.size} images, got {tuple(img.shape)}")
        x = self.from_rgb(img)
        feats = [x]
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        latent = self.final_linear(lrelu(self.final_conv(x)).flatten(1))
        return latent, feats[::-1]  # low -> high resolution

    @property
    def n_levels(self) -> int:
        return int(math.log2(self.cfg.size)) - 1
