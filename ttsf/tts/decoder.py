"""CFM decoder estimator: a 1-D U-Net with transformer blocks (Matcha-TTS style).

``UNetDecoder(x, mask, t, mu, cond=None) -> velocity`` with x, mu ``(batch, n_mels,
frames)``, mask ``(batch, 1, frames)``, t ``(batch,)`` in [0, 1], cond ``(batch,
cond_emb_dim)`` or None. The network input is ``[x_t, mu, cond]`` concatenated on
channels. Frames are padded internally to a multiple of ``2 ** downsamples``.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F


class SnakeBeta(nn.Module):
    """``x + 1/beta * sin^2(alpha x)`` per channel (last axis), log-scale alpha and beta."""

    def __init__(self, features: int):
        super().__init__()
        self.log_alpha = nn.Parameter(torch.zeros(features))
        self.log_beta = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha, beta = self.log_alpha.exp(), self.log_beta.exp()
        return x + torch.sin(x * alpha).pow(2) / (beta + 1e-9)


def timestep_embedding(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """Sinusoidal embedding ``(batch,)`` -> ``(batch, dim)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / max(half - 1, 1))
    ang = scale * t.float()[:, None] * freqs[None, :]
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


class MaskedGroupNorm(nn.Module):
    """GroupNorm whose statistics use valid frames only, so padding never changes the output."""

    def __init__(self, groups: int, channels: int, eps: float = 1e-5):
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        xg = x.view(b, self.groups, c // self.groups, t)
        m = mask.view(b, 1, 1, t)
        n = (m.sum(dim=(2, 3), keepdim=True) * (c // self.groups)).clamp_min(1)
        mean = (xg * m).sum(dim=(2, 3), keepdim=True) / n
        var = ((xg - mean).pow(2) * m).sum(dim=(2, 3), keepdim=True) / n
        y = ((xg - mean) / torch.sqrt(var + self.eps)).view(b, c, t)
        return y * self.weight[:, None] + self.bias[:, None]


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, groups: int = 8):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, 3, padding=1)
        self.norm = MaskedGroupNorm(groups, cout)

    def forward(self, x, mask):
        return F.mish(self.norm(self.conv(x * mask), mask)) * mask


class ResBlock(nn.Module):
    """Two conv blocks with the time embedding added in between, plus a 1x1 residual."""

    def __init__(self, cin: int, cout: int, time_dim: int):
        super().__init__()
        self.b1, self.b2 = Block(cin, cout), Block(cout, cout)
        self.time = nn.Sequential(nn.Mish(), nn.Linear(time_dim, cout))
        self.res = nn.Conv1d(cin, cout, 1)

    def forward(self, x, mask, temb):
        h = self.b1(x, mask) + self.time(temb)[:, :, None]
        return (self.b2(h, mask) + self.res(x * mask)) * mask


class FeedForward(nn.Module):
    def __init__(self, dim: int, act: str, dropout: float, mult: int = 4):
        super().__init__()
        self.proj = nn.Linear(dim, dim * mult)
        self.act = SnakeBeta(dim * mult) if act == "snakebeta" else nn.GELU()
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim * mult, dim)

    def forward(self, x):
        return self.out(self.drop(self.act(self.proj(x))))


class TransformerBlock(nn.Module):
    """Pre-norm self-attention + feed-forward over frames; x ``(B, C, T)``."""

    def __init__(self, dim: int, heads: int, head_dim: int, dropout: float, act: str):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * heads * head_dim, bias=False)
        self.out = nn.Linear(heads * head_dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, act, dropout)
        self.dropout = dropout

    def forward(self, x, mask):
        b, c, t = x.shape
        h = x.transpose(1, 2)  # (B, T, C)
        q, k, v = self.qkv(self.norm1(h)).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        keep = mask[:, :, None, :] > 0  # (B, 1, 1, T)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=self.dropout if self.training else 0.0)
        h = h + self.out(a.transpose(1, 2).reshape(b, t, -1))
        h = h + self.ff(self.norm2(h))
        return h.transpose(1, 2) * mask


class Level(nn.Module):
    def __init__(self, cin: int, cout: int, time_dim: int, n_blocks: int, heads: int, head_dim: int,
                 dropout: float, act: str):
        super().__init__()
        self.res = ResBlock(cin, cout, time_dim)
        self.blocks = nn.ModuleList(TransformerBlock(cout, heads, head_dim, dropout, act) for _ in range(n_blocks))

    def forward(self, x, mask, temb):
        x = self.res(x, mask, temb)
        for blk in self.blocks:
            x = blk(x, mask)
        return x


class UNetDecoder(nn.Module):
    """Velocity estimator for OT-CFM on mels (see module docstring)."""

    def __init__(self, n_mels: int, cond_emb_dim: int = 0, channels: Sequence[int] = (256, 256), n_blocks: int = 1,
                 n_mid: int = 2, heads: int = 2, head_dim: int = 64, dropout: float = 0.05, act: str = "snakebeta"):
        super().__init__()
        channels = tuple(channels)
        self.n_down = len(channels) - 1
        time_dim = 4 * channels[0]
        self.time_mlp = nn.Sequential(nn.Linear(channels[0], time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.t_dim = channels[0]
        kw = dict(time_dim=time_dim, n_blocks=n_blocks, heads=heads, head_dim=head_dim, dropout=dropout, act=act)
        cin = 2 * n_mels + cond_emb_dim
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for i, c in enumerate(channels):
            self.down.append(Level(cin, c, **kw))
            last = i == len(channels) - 1
            self.downsample.append(nn.Conv1d(c, c, 3, padding=1, stride=1 if last else 2))
            cin = c
        self.mid = nn.ModuleList(Level(channels[-1], channels[-1], **kw) for _ in range(n_mid))
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        rev = channels[::-1]
        for i, c in enumerate(rev):
            cout = rev[i + 1] if i + 1 < len(rev) else channels[0]
            self.up.append(Level(2 * c, cout, **kw))
            last = i == len(rev) - 1
            self.upsample.append(nn.Conv1d(cout, cout, 3, padding=1) if last
                                 else nn.ConvTranspose1d(cout, cout, 4, 2, 1))
        self.final = Block(channels[0], channels[0])
        self.proj = nn.Conv1d(channels[0], n_mels, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, t: torch.Tensor, mu: torch.Tensor,
                cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        frames = x.shape[-1]
        mult = 2 ** self.n_down
        pad = (-frames) % mult
        h = [x, mu] + ([cond[:, :, None].expand(-1, -1, frames)] if cond is not None else [])
        h = torch.cat(h, dim=1)
        if pad:
            h = F.pad(h, (0, pad))
            mask = F.pad(mask, (0, pad))
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        temb = self.time_mlp(timestep_embedding(t, self.t_dim))
        masks = [mask]
        skips = []
        for level, down in zip(self.down, self.downsample):
            m = masks[-1]
            h = level(h, m, temb)
            skips.append(h)
            h = down(h * m)
            if down.stride[0] == 2:
                masks.append(m[:, :, ::2])
        for level in self.mid:
            h = level(h, masks[-1], temb)
        for r, (level, up) in enumerate(zip(self.up, self.upsample)):
            m = masks[self.n_down - r]  # skip r comes from the level at this resolution
            h = level(torch.cat([h, skips.pop()], dim=1), m, temb)
            h = up(h * m)
        out = self.proj(self.final(h, masks[0]) * masks[0]) * masks[0]
        return out[..., :frames]
