"""Audio mapper: TTS features -> lip-motion features f_lip at the video frame rate.

Input (per mel frame, 100/s): concat(e_t expanded by the durations, f̃_t, energy).
Multi-receptive-field fusion (HiFi-GAN MRF): parallel residual stacks of dilated 1-D
convolutions with different kernels, averaged. As in the paper the convolutions use
no temporal padding (no boundary artefacts); each residual is centre-cropped, and the
result is linearly interpolated to the number of video frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ttsf.motion.config import MotionConfig


def expand_by_durations(e_t: torch.Tensor, durations: torch.Tensor, n_mel: int) -> torch.Tensor:
    """Repeat token features by their durations.

    e_t: ``(B, D, L_t)``; durations: ``(B, L_t)`` mel frames (rounded); returns
    ``(B, D, n_mel)`` (cropped or zero-padded to ``n_mel``).
    """
    b, d, _ = e_t.shape
    out = e_t.new_zeros(b, d, n_mel)
    reps = durations.round().long().clamp_min(0)
    for i in range(b):
        x = torch.repeat_interleave(e_t[i], reps[i], dim=1)[:, :n_mel]
        out[i, :, : x.shape[1]] = x
    return out


class _ValidResStack(nn.Module):
    """Residual dilated convs with one kernel size, no padding (length shrinks)."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, kernel, dilation=d) for d in dilations)
        self.shrink = [(kernel - 1) * d for d in dilations]

    @property
    def reduction(self) -> int:
        return sum(self.shrink)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, s in zip(self.convs, self.shrink):
            y = conv(F.leaky_relu(x, 0.1))
            x = x[:, :, s // 2: x.shape[2] - (s - s // 2)] + y
        return x


class MRF(nn.Module):
    """Mean of parallel :class:`_ValidResStack` outputs, centre-cropped to a common length."""

    def __init__(self, channels: int, kernels: tuple[int, ...], dilations: tuple[int, ...]):
        super().__init__()
        self.stacks = nn.ModuleList(_ValidResStack(channels, k, dilations) for k in kernels)
        self.reduction = max(s.reduction for s in self.stacks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[2] - self.reduction
        outs = []
        for stack in self.stacks:
            y = stack(x)
            off = (y.shape[2] - n) // 2
            outs.append(y[:, :, off: off + n])
        return torch.stack(outs).mean(0)


class AudioMapper(nn.Module):
    """``forward(features, n_frames (B,)) -> f_lip (B, T_video_max, motion_dim)``.

    ``features`` is the TTS feature dict: ``e_t (B, d_emb, L_t)``, ``f_tilde
    (B, d_enc, L_m)``, ``energy (B, 1, L_m)``, ``durations (B, L_t)``, ``mel_lengths (B,)``.
    Frames past ``n_frames[b]`` are zero.
    """

    def __init__(self, cfg: MotionConfig):
        super().__init__()
        self.cfg = cfg
        c_in = {"e_t": cfg.d_emb, "f_tilde": cfg.d_enc, "energy": 1}
        self.inputs = cfg.mapper_inputs
        self.pre = nn.Conv1d(sum(c_in[k] for k in self.inputs), cfg.mapper_channels, 1)
        self.stages = nn.ModuleList(
            MRF(cfg.mapper_channels, cfg.mapper_kernels, cfg.mapper_dilations) for _ in range(cfg.mapper_stages))
        self.post = nn.Conv1d(cfg.mapper_channels, cfg.motion_dim, 1)
        if cfg.mapper_zero_init:
            nn.init.zeros_(self.post.weight)
            nn.init.zeros_(self.post.bias)
        self.reduction = sum(s.reduction for s in self.stages)

    def condition(self, features: dict) -> torch.Tensor:
        """The concatenated input ``(B, C_in, L_m)`` (Fig. 3's *condition*)."""
        n_mel = features["f_tilde"].shape[2]
        parts = []
        for k in self.inputs:
            if k == "e_t":
                parts.append(expand_by_durations(features["e_t"], features["durations"], n_mel))
            else:
                parts.append(features[k])
        return torch.cat(parts, 1)

    def forward(self, features: dict, n_frames: torch.Tensor) -> torch.Tensor:
        cond = self.condition(features)
        lengths = features["mel_lengths"].long()
        t_max = int(n_frames.max())
        out = cond.new_zeros(cond.shape[0], t_max, self.cfg.motion_dim)
        for i in range(cond.shape[0]):
            x = cond[i:i + 1, :, : int(lengths[i])]
            need = self.reduction + 2
            if x.shape[2] < need:  # too short for valid convs: stretch, never pad
                x = F.interpolate(x, size=need, mode="linear", align_corners=True)
            h = self.pre(x)
            for stage in self.stages:
                h = stage(h)
            h = self.post(F.leaky_relu(h, 0.1))
            h = F.interpolate(h, size=int(n_frames[i]), mode="linear", align_corners=True)
            out[i, : int(n_frames[i])] = h[0].T
        return out
