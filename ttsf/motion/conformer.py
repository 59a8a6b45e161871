"""A compact Conformer block (Gulati et al. 2020) for ``(batch, frames, dim)`` sequences."""

from __future__ import annotations

import torch
from torch import nn


class _FeedForward(nn.Sequential):
    def __init__(self, dim: int, dropout: float):
        super().__init__(nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.SiLU(), nn.Dropout(dropout),
                         nn.Linear(4 * dim, dim), nn.Dropout(dropout))


class _ConvModule(nn.Module):
    def __init__(self, dim: int, kernel: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pw1 = nn.Conv1d(dim, 2 * dim, 1)
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.bn = nn.GroupNorm(1, dim)  # batch-size independent (inference on one clip)
        self.pw2 = nn.Conv1d(dim, dim, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.norm(x).transpose(1, 2) * mask  # (B, D, T)
        y = nn.functional.glu(self.pw1(y), dim=1) * mask
        y = self.pw2(nn.functional.silu(self.bn(self.dw(y)))) * mask
        return self.drop(y.transpose(1, 2))


class ConformerBlock(nn.Module):
    """FFN/2 -> MHSA -> conv -> FFN/2 -> LayerNorm.

    ``forward(x (B, T, D), mask (B, 1, T))`` with mask 1 on valid frames.
    """

    def __init__(self, dim: int, heads: int, kernel: int, dropout: float):
        super().__init__()
        self.ff1 = _FeedForward(dim, dropout)
        self.attn_norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.conv = _ConvModule(dim, kernel, dropout)
        self.ff2 = _FeedForward(dim, dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + 0.5 * self.ff1(x)
        h = self.attn_norm(x)
        pad = mask[:, 0] < 0.5
        x = x + self.attn(h, h, h, key_padding_mask=pad, need_weights=False)[0]
        x = x + self.conv(x, mask)
        x = x + 0.5 * self.ff2(x)
        return self.norm(x) * mask.transpose(1, 2)


def sinusoidal(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of times ``t`` ``(B,)`` in [0, 1] -> ``(B, dim)``."""
    half = dim // 2
    freqs = torch.exp(-torch.arange(half, device=t.device, dtype=t.dtype) * (9.21 / max(half - 1, 1)))
    ang = 1000.0 * t[:, None] * freqs[None]
    return torch.cat([ang.sin(), ang.cos()], dim=1)
