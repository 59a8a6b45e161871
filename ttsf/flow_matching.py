"""Optimal-transport conditional flow matching (OT-CFM): one loss, one ODE solver.

Shared by the TTS decoder (mel) and the motion sampler (compressed motion f_c).
The estimator network is injected; it is called as

    estimator(x, mask, t, **cond) -> velocity

with ``x`` ``(batch, channels, frames)``, ``mask`` ``(batch, 1, frames)`` (1 = valid),
``t`` ``(batch,)`` in [0, 1] and any keyword conditioning (``mu``, ``cond``, …).

Path (Lipman et al. 2023, as in Matcha-TTS and the TTSF paper):

    x_t = (1 - (1 - sigma_min) t) x_0 + t x_1,     u_t = x_1 - (1 - sigma_min) x_0

with ``x_0`` Gaussian noise (mean ``x0_mean`` — zero for Matcha's decoder, the prior
``mu`` for TTSF's motion sampler — scaled by ``temperature`` at inference).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

SIGMA_MIN = 1e-4

Estimator = Callable[..., torch.Tensor]


def cfm_path(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor, sigma_min: float = SIGMA_MIN):
    """Return ``(x_t, u_t)`` for times ``t`` ``(batch,)`` on the OT path from x0 to x1."""
    tb = t.view(-1, *([1] * (x1.dim() - 1)))
    xt = (1 - (1 - sigma_min) * tb) * x0 + tb * x1
    ut = x1 - (1 - sigma_min) * x0
    return xt, ut


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over valid frames and channels.

    pred, target: ``(batch, channels, frames)``; mask: ``(batch, 1, frames)``.
    """
    se = ((pred - target) ** 2 * mask).sum()
    return se / (mask.sum() * pred.shape[1]).clamp_min(1)


class FlowMatching(nn.Module):
    """OT-CFM training loss and Euler ODE sampler around an injected estimator."""

    def __init__(self, estimator: nn.Module, sigma_min: float = SIGMA_MIN):
        super().__init__()
        self.estimator = estimator
        self.sigma_min = sigma_min

    def loss(
        self,
        x1: torch.Tensor,
        mask: torch.Tensor,
        x0_mean: Optional[torch.Tensor] = None,
        generator: Optional[torch.Generator] = None,
        **cond,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """OT-CFM loss for targets ``x1`` ``(batch, channels, frames)``.

        Returns ``(loss, x_t)``. ``x0_mean`` ``(batch, channels, frames)`` shifts the
        source Gaussian (TTSF motion sampler: ``N(mu, I)``).
        """
        b = x1.shape[0]
        t = torch.rand(b, device=x1.device, dtype=x1.dtype, generator=generator)
        x0 = torch.randn(x1.shape, device=x1.device, dtype=x1.dtype, generator=generator)
        if x0_mean is not None:
            x0 = x0 + x0_mean
        xt, ut = cfm_path(x0, x1, t, self.sigma_min)
        pred = self.estimator(xt, mask, t, **cond)
        return masked_mse(pred, ut, mask), xt

    @torch.inference_mode()
    def sample(
        self,
        shape: tuple[int, ...],
        mask: torch.Tensor,
        n_steps: int = 10,
        temperature: float = 1.0,
        x0_mean: Optional[torch.Tensor] = None,
        generator: Optional[torch.Generator] = None,
        device=None,
        dtype=torch.float32,
        **cond,
    ) -> torch.Tensor:
        """Integrate the learned ODE from t=0 to 1 with ``n_steps`` Euler steps.

        ``x_0 = temperature * N(0, I) (+ x0_mean)``; returns ``x_1`` masked, shape ``shape``.
        """
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        device = device if device is not None else mask.device
        z = torch.randn(shape, device="cpu" if generator is None else generator.device,
                        dtype=dtype, generator=generator).to(device) * temperature
        if x0_mean is not None:
            z = z + x0_mean
        return euler_solve(self.estimator, z, mask, n_steps, **cond)


def euler_solve(estimator: Estimator, x0: torch.Tensor, mask: torch.Tensor, n_steps: int, **cond):
    """Fixed-step Euler integration of ``dx/dt = estimator(x, mask, t)`` over [0, 1]."""
    t_span = torch.linspace(0, 1, n_steps + 1, device=x0.device, dtype=x0.dtype)
    x = x0
    for i in range(n_steps):
        t, dt = t_span[i], t_span[i + 1] - t_span[i]
        v = estimator(x, mask, t.expand(x.shape[0]), **cond)
        x = x + dt * v
    return x * mask
