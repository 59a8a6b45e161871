"""Motion sampler: motion normaliser (AE), Conformer prior and OT-CFM over f_c.

Training (on windows of ``MotionConfig.window`` frames)::

    f_c = enc(f_m);  f̂_m = dec(f_c)                       L_ae    = ||f̂_m - f_m||²
    μ = prior(f_m,0, f_lip)                                L_prior = -log N(f_c; μ, I)
    x_0 ~ N(μ, I), x_1 = f_c (OT path, ttsf.flow_matching)  L_cfm

Inference: ``f_m,0`` is the source image's motion; ``f_c`` is integrated from
``x_0 = μ + temperature·ε`` and decoded to ``f̂_m``. ``f_c`` and ``f_m`` are detached
for the prior/CFM/AE targets so the sampler cannot move the face branch's motion space.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from ttsf.flow_matching import FlowMatching
from ttsf.motion.config import MotionConfig
from ttsf.motion.conformer import ConformerBlock, sinusoidal


class MotionNormaliser(nn.Module):
    """Per-frame auto-encoder ``f_m (B, D, T) -> f_c (B, C, T) -> f̂_m (B, D, T)``."""

    def __init__(self, cfg: MotionConfig):
        super().__init__()
        d, h, c = cfg.motion_dim, cfg.normaliser_hidden, cfg.compressed_dim
        self.enc = nn.Sequential(nn.Conv1d(d, h, 1), nn.SiLU(), nn.Conv1d(h, h, 1), nn.SiLU(), nn.Conv1d(h, c, 1))
        self.dec = nn.Sequential(nn.Conv1d(c, h, 1), nn.SiLU(), nn.Conv1d(h, h, 1), nn.SiLU(), nn.Conv1d(h, d, 1))

    def encode(self, f_m: torch.Tensor) -> torch.Tensor:
        return self.enc(f_m)

    def decode(self, f_c: torch.Tensor) -> torch.Tensor:
        return self.dec(f_c)


class PriorNetwork(nn.Module):
    """Conformer prior: ``(f_m0 (B, D), f_lip (B, D, T), mask (B, 1, T)) -> μ (B, C, T)``."""

    def __init__(self, cfg: MotionConfig):
        super().__init__()
        self.proj = nn.Linear(2 * cfg.motion_dim, cfg.prior_dim)
        self.blocks = nn.ModuleList(
            ConformerBlock(cfg.prior_dim, cfg.prior_heads, cfg.prior_kernel, cfg.dropout)
            for _ in range(cfg.prior_layers))
        self.out = nn.Linear(cfg.prior_dim, cfg.compressed_dim)

    def forward(self, f_m0: torch.Tensor, f_lip: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = f_lip.shape[2]
        x = torch.cat([f_m0[:, :, None].expand(-1, -1, t), f_lip], 1).transpose(1, 2)
        x = self.proj(x) * mask.transpose(1, 2)
        for block in self.blocks:
            x = block(x, mask)
        return self.out(x).transpose(1, 2) * mask


class MotionEstimator(nn.Module):
    """CFM vector field ``v(x_t, mask, t, mu, cond)``: x_t, μ ``(B, C, T)``, cond ``(B, D, T)``."""

    def __init__(self, cfg: MotionConfig):
        super().__init__()
        dim = cfg.prior_dim
        self.inp = nn.Linear(2 * cfg.compressed_dim + cfg.motion_dim, dim)
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.blocks = nn.ModuleList(
            ConformerBlock(dim, cfg.prior_heads, cfg.prior_kernel, cfg.dropout) for _ in range(cfg.estimator_layers))
        self.out = nn.Linear(dim, cfg.compressed_dim)
        self.dim = dim

    def forward(self, x, mask, t, mu, cond):
        h = self.inp(torch.cat([x, mu, cond], 1).transpose(1, 2))
        h = h + self.time(sinusoidal(t, self.dim))[:, None]
        m = mask
        for block in self.blocks:
            h = block(h, m)
        return self.out(h).transpose(1, 2) * mask


class MotionSampler(nn.Module):
    """Normaliser + prior + OT-CFM (shared :class:`ttsf.flow_matching.FlowMatching`)."""

    def __init__(self, cfg: MotionConfig):
        super().__init__()
        self.cfg = cfg
        self.normaliser = MotionNormaliser(cfg)
        self.prior = PriorNetwork(cfg)
        self.cfm = FlowMatching(MotionEstimator(cfg))

    def losses(self, f_m: torch.Tensor, f_lip: torch.Tensor, mask: torch.Tensor,
               generator: Optional[torch.Generator] = None) -> dict:
        """f_m, f_lip: ``(B, D, T)`` (T = training window); mask ``(B, 1, T)``.

        Returns ``loss_ae``, ``loss_prior``, ``loss_cfm`` (scalars) and ``f_hat`` ``(B, D, T)``.
        """
        f_m = f_m.detach()
        f_c = self.normaliser.encode(f_m)
        f_hat = self.normaliser.decode(f_c)
        n = mask.sum() * f_m.shape[1]
        loss_ae = (((f_hat - f_m) ** 2) * mask).sum() / n.clamp_min(1)
        target = f_c.detach()
        mu = self.prior(f_m[:, :, 0], f_lip, mask)
        c = target.shape[1]
        nll = 0.5 * ((target - mu) ** 2 + math.log(2 * math.pi))
        loss_prior = (nll * mask).sum() / (mask.sum() * c).clamp_min(1)
        loss_cfm, _ = self.cfm.loss(target, mask, x0_mean=mu, generator=generator, mu=mu, cond=f_lip)
        return {"loss_ae": loss_ae, "loss_prior": loss_prior, "loss_cfm": loss_cfm, "f_hat": f_hat}

    @torch.inference_mode()
    def sample(self, f_m0: torch.Tensor, f_lip: torch.Tensor, mask: torch.Tensor, n_steps: int = 10,
               temperature: float = 1.0, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Head motion ``f̂_m`` ``(B, D, T)`` for source motion ``f_m0`` ``(B, D)`` and ``f_lip``
        ``(B, D, T)``; reproducible for a given ``generator`` state."""
        mu = self.prior(f_m0, f_lip, mask)
        f_c = self.cfm.sample(tuple(mu.shape), mask, n_steps=n_steps, temperature=temperature,
                              x0_mean=mu, generator=generator, mu=mu, cond=f_lip)
        return self.normaliser.decode(f_c) * mask
