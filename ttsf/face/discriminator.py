"""StyleGAN2 discriminator (residual, minibatch standard deviation)."""

from __future__ import annotations

import torch
from torch import nn

from ttsf.face.config import FaceConfig
from ttsf.face.layers import ConvLayer, EqualLinear, ResBlock


class Discriminator(nn.Module):
    """``(B, 3, size, size) -> (B,)`` realness logits."""

    def __init__(self, cfg: FaceConfig, stddev_group: int = 4):
        super().__init__()
        cap = cfg.disc_channel_max or cfg.channel_max

        def ch(r):
            return min(cap, cfg.channels(r))

        self.from_rgb = ConvLayer(3, ch(cfg.size), 1)
        blocks, res = [], cfg.size
        while res > 4:
            blocks.append(ResBlock(ch(res), ch(res // 2)))
            res //= 2
        self.blocks = nn.Sequential(*blocks)
        self.stddev_group = stddev_group
        self.final_conv = ConvLayer(ch(4) + 1, ch(4), 3)
        self.final = nn.Sequential(EqualLinear(ch(4) * 16, ch(4), activation=True), EqualLinear(ch(4), 1))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.from_rgb(img))
        b, c, h, w = x.shape
        group = min(b, self.stddev_group)
        while b % group:
            group -= 1
        std = x.view(group, -1, c, h, w)
        std = torch.sqrt(std.var(0, unbiased=False) + 1e-8).mean([1, 2, 3])  # (B/group,)
        std = std.view(-1, 1, 1, 1).repeat(group, 1, h, w)
        x = self.final_conv(torch.cat([x, std], 1))
        return self.final(x.flatten(1)).squeeze(1)
