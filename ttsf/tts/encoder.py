"""Text encoder (ConvReluNorm prenet + RoPE transformer) and duration predictor.

Shapes: token features ``(batch, channels, text_len)``; ``mask`` ``(batch, 1, text_len)``
float (1 = valid).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F


class ChannelNorm(nn.Module):
    """LayerNorm over the channel axis of ``(batch, channels, frames)``."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class ConvReluNorm(nn.Module):
    """Stack of (conv -> channel norm -> ReLU -> dropout) with a zero-initialised residual projection."""

    def __init__(self, channels: int, hidden: int, kernel: int = 5, layers: int = 3, dropout: float = 0.5):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for k in range(layers):
            self.convs.append(nn.Conv1d(channels if k == 0 else hidden, hidden, kernel, padding=kernel // 2))
            self.norms.append(ChannelNorm(hidden))
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Conv1d(hidden, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = x
        for conv, norm in zip(self.convs, self.norms):
            h = self.drop(F.relu(norm(conv(h * mask))))
        return (x + self.proj(h)) * mask


def rope(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding on ``(batch, heads, frames, head_dim)`` (even head_dim)."""
    t, d = x.shape[-2], x.shape[-1]
    half = d // 2
    inv = 1.0 / (10000 ** (torch.arange(0, half, device=x.device, dtype=torch.float32) / half))
    ang = torch.arange(t, device=x.device, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class RopeSelfAttention(nn.Module):
    def __init__(self, channels: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.out = nn.Conv1d(channels, channels, 1)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        q, k, v = self.qkv(x).view(b, 3, self.heads, c // self.heads, t).transpose(-1, -2).unbind(1)
        q, k = rope(q), rope(k)
        attn_mask = (mask[:, :, None, :] > 0)  # (B, 1, 1, T): keys
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(-1, -2).reshape(b, c, t))


class TransformerEncoder(nn.Module):
    """Post-norm transformer with RoPE attention and a convolutional feed-forward."""

    def __init__(self, channels: int, filter_channels: int, heads: int, layers: int, kernel: int, dropout: float):
        super().__init__()
        self.attn = nn.ModuleList(RopeSelfAttention(channels, heads, dropout) for _ in range(layers))
        self.norm1 = nn.ModuleList(ChannelNorm(channels) for _ in range(layers))
        self.ff1 = nn.ModuleList(nn.Conv1d(channels, filter_channels, kernel, padding=kernel // 2)
                                 for _ in range(layers))
        self.ff2 = nn.ModuleList(nn.Conv1d(filter_channels, channels, kernel, padding=kernel // 2)
                                 for _ in range(layers))
        self.norm2 = nn.ModuleList(ChannelNorm(channels) for _ in range(layers))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x * mask
        for attn, n1, f1, f2, n2 in zip(self.attn, self.norm1, self.ff1, self.ff2, self.norm2):
            x = n1(x + self.drop(attn(x, mask)))
            h = f2(self.drop(F.relu(f1(x * mask))) * mask)
            x = n2(x + self.drop(h)) * mask
        return x


class TextEncoder(nn.Module):
    """Token embeddings -> (e_t, f_t, mu_x).

    e_t ``(B, d_emb, T_x)``; f_t ``(B, d_enc, T_x)`` (d_enc = channels + cond_emb_dim when
    conditioned: the projected condition is concatenated after the prenet);
    mu_x ``(B, n_mels, T_x)`` the prior mean (normalised mel units).
    """

    def __init__(self, n_vocab: int, d_emb: int, channels: int, filter_channels: int, heads: int, layers: int,
                 kernel: int, dropout: float, n_mels: int, cond_emb_dim: int = 0, prenet: bool = True):
        super().__init__()
        self.d_emb = d_emb
        self.emb = nn.Embedding(n_vocab, d_emb)
        nn.init.normal_(self.emb.weight, 0.0, d_emb ** -0.5)
        self.in_proj = nn.Identity() if d_emb == channels else nn.Conv1d(d_emb, channels, 1)
        self.prenet = ConvReluNorm(channels, channels, kernel=5, layers=3, dropout=0.5) if prenet else None
        width = channels + cond_emb_dim
        self.encoder = TransformerEncoder(width, filter_channels, heads, layers, kernel, dropout)
        self.proj_mu = nn.Conv1d(width, n_mels, 1)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, cond: Optional[torch.Tensor] = None):
        e_t = self.emb(tokens).transpose(1, 2) * math.sqrt(self.d_emb) * mask  # (B, d_emb, T_x)
        x = self.in_proj(e_t)
        if self.prenet is not None:
            x = self.prenet(x, mask)
        if cond is not None:
            x = torch.cat([x, cond[:, :, None].expand(-1, -1, x.shape[-1])], dim=1)
        f_t = self.encoder(x, mask)
        mu = self.proj_mu(f_t) * mask
        return e_t, f_t, mu


class DurationPredictor(nn.Module):
    """Two (conv -> ReLU -> norm -> dropout) layers -> log-duration ``(B, 1, T_x)``."""

    def __init__(self, channels: int, filter_channels: int, kernel: int, dropout: float):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, filter_channels, kernel, padding=kernel // 2)
        self.norm1 = ChannelNorm(filter_channels)
        self.conv2 = nn.Conv1d(filter_channels, filter_channels, kernel, padding=kernel // 2)
        self.norm2 = ChannelNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.norm1(F.relu(self.conv1(x * mask))))
        x = self.drop(self.norm2(F.relu(self.conv2(x * mask))))
        return self.proj(x * mask) * mask
