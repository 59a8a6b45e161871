"""Generator G: LIA-style flow-field warping of encoder features + StyleGAN2 decoder.

Each synthesis layer k (1..n_layers, resolution 4·2^(k-1)) receives its own style
vector ``f_z,k`` (eq. 1 of the paper; routing is done by :mod:`ttsf.face.fusion`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ttsf.face.config import FaceConfig
from ttsf.face.layers import ModulatedConv2d, StyledConv, upsample2x


def warp(feat: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Warp ``feat`` ``(B, C, H, W)`` by ``flow`` ``(B, 2, H, W)`` (offsets in [-1, 1] units)."""
    b, _, h, w = feat.shape
    ys = torch.linspace(-1, 1, h, device=feat.device, dtype=feat.dtype)
    xs = torch.linspace(-1, 1, w, device=feat.device, dtype=feat.dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack((gx, gy), dim=-1).unsqueeze(0) + flow.permute(0, 2, 3, 1)
    return F.grid_sample(feat, grid, mode="bilinear", padding_mode="border", align_corners=True)


class ToRGB(nn.Module):
    """Modulated 1x1 conv to RGB (no demodulation), plus upsampled skip."""

    def __init__(self, in_ch: int, style_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + upsample2x(skip)
        return out


class SynthesisLayer(nn.Module):
    """One generator layer: styled convs, flow + occlusion mask, warp, ToRGB.

    ``forward(x, style (B, style_dim), feat (B, C, r, r), rgb_skip) -> (x, rgb)``; the
    style for this layer is the only motion input, so hooking ``forward`` exposes eq. 1.
    """

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool):
        super().__init__()
        self.conv1 = StyledConv(in_ch, out_ch, style_dim, upsample=upsample)
        self.conv2 = StyledConv(out_ch, out_ch, style_dim)
        self.to_flow = ModulatedConv2d(out_ch, 3, 3, style_dim, demodulate=False)
        self.to_rgb = ToRGB(out_ch, style_dim)

    def forward(self, x, style, feat, rgb_skip=None):
        x = self.conv2(self.conv1(x, style), style)
        flow_mask = self.to_flow(x, style)
        flow, mask = flow_mask[:, :2], torch.sigmoid(flow_mask[:, 2:3])
        warped = warp(feat, flow)
        dtype = torch.promote_types(torch.promote_types(x.dtype, warped.dtype), mask.dtype)  # autocast mixes them
        x = torch.lerp(x.to(dtype), warped.to(dtype), mask.to(dtype))  # mask * warped + (1 - mask) * x
        return x, self.to_rgb(x, style, rgb_skip)


class Generator(nn.Module):
    """G: source features + per-layer styles -> image.

    ``forward(feats, styles (B, n_layers, style_dim)) -> (B, 3, size, size)`` in about
    [-1, 1] (not clamped); ``feats`` as returned by :class:`VisualEncoder` (low -> high).
    """

    def __init__(self, cfg: FaceConfig):
        super().__init__()
        self.cfg = cfg
        layers = []
        for k in range(1, cfg.n_layers + 1):
            r = cfg.resolution(k)
            in_ch = cfg.channels(r if k == 1 else r // 2)
            layers.append(SynthesisLayer(in_ch, cfg.channels(r), cfg.style_dim, upsample=k > 1))
        self.layers = nn.ModuleList(layers)

    def forward(self, feats: list[torch.Tensor], styles: torch.Tensor) -> torch.Tensor:
        n = self.cfg.n_layers
        if styles.dim() != 3 or styles.shape[1] != n:
            raise ValueError(f"styles must be (batch, {n}, style_dim), got {tuple(styles.shape)}")
        x, rgb = feats[0], None
        for k, layer in enumerate(self.layers):
            x, rgb = layer(x, styles[:, k], feats[k], rgb)
        return rgb
