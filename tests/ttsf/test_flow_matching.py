"""OT-CFM math: the path, the loss target, the Euler solver, and a learned toy transport."""

from __future__ import annotations

import math

import torch
from torch import nn

from ttsf.flow_matching import SIGMA_MIN, FlowMatching, cfm_path, euler_solve, masked_mse


def test_path_endpoints_and_velocity():
    g = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(3, 2, 5, generator=g), torch.randn(3, 2, 5, generator=g)
    xt, ut = cfm_path(x0, x1, torch.tensor([0.0, 1.0, 0.5]))
    torch.testing.assert_close(xt[0], x0[0])
    torch.testing.assert_close(xt[1], SIGMA_MIN * x0[1] + x1[1])
    torch.testing.assert_close(ut, x1 - (1 - SIGMA_MIN) * x0)
    # u is the time derivative of x_t
    eps = 1e-3
    a, _ = cfm_path(x0, x1, torch.full((3,), 0.3))
    b, _ = cfm_path(x0, x1, torch.full((3,), 0.3 + eps))
    torch.testing.assert_close((b - a) / eps, ut, atol=1e-3, rtol=1e-3)


def test_masked_mse_ignores_padding():
    pred, target = torch.zeros(1, 2, 4), torch.ones(1, 2, 4)
    target[..., 2:] = 100.0
    mask = torch.tensor([[[1.0, 1.0, 0.0, 0.0]]])
    assert masked_mse(pred, target, mask).item() == 1.0


def test_euler_solver_on_analytic_field():
    # dx/dt = -x has x(1) = x0 * e^-1; Euler with n steps gives x0 * (1 - 1/n)^n exactly.
    x0 = torch.tensor([[[2.0, -1.0, 0.5]]])
    mask = torch.ones(1, 1, 3)
    for n in (1, 10, 100):
        x1 = euler_solve(lambda x, m, t: -x, x0, mask, n)
        torch.testing.assert_close(x1, x0 * (1 - 1 / n) ** n)
    assert torch.allclose(euler_solve(lambda x, m, t: -x, x0, mask, 1000), x0 * math.exp(-1), atol=1e-3)
    # time-dependent field dx/dt = t: x(1) = x0 + sum_i t_i * dt (left Riemann sum)
    x1 = euler_solve(lambda x, m, t: t.view(-1, 1, 1).expand_as(x), x0, mask, 4)
    torch.testing.assert_close(x1, x0 + (0 + 0.25 + 0.5 + 0.75) / 4)


class _MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 2))

    def forward(self, x, mask, t):
        h = torch.cat([x[:, :, 0], t[:, None]], dim=1)
        return self.net(h)[:, :, None] * mask


def test_learns_transport_to_known_gaussian():
    torch.manual_seed(0)
    target_mean, target_std = torch.tensor([3.0, -2.0]), torch.tensor([0.5, 1.5])
    fm = FlowMatching(_MLP())
    opt = torch.optim.Adam(fm.parameters(), lr=3e-3)
    mask = torch.ones(256, 1, 1)
    g = torch.Generator().manual_seed(1)
    for _ in range(600):
        x1 = (target_mean + target_std * torch.randn(256, 2, generator=g))[:, :, None]
        loss, _ = fm.loss(x1, mask, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    samples = fm.sample((4000, 2, 1), torch.ones(4000, 1, 1), n_steps=20, generator=torch.Generator().manual_seed(2))
    mean, std = samples[:, :, 0].mean(0), samples[:, :, 0].std(0)
    torch.testing.assert_close(mean, target_mean, atol=0.15, rtol=0)
    torch.testing.assert_close(std, target_std, atol=0.2, rtol=0)
    # the same generator seed gives the same samples
    again = fm.sample((4000, 2, 1), torch.ones(4000, 1, 1), n_steps=20, generator=torch.Generator().manual_seed(2))
    assert torch.equal(samples, again)
