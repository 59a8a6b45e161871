"""Motion sampler: OT-CFM shared with the TTS (ttsf.flow_matching), prior NLL, AE, sampling."""

import math

import torch

from ttsf.flow_matching import FlowMatching, cfm_path, masked_mse
from ttsf.motion.config import MotionConfig
from ttsf.motion.sampler import MotionSampler

SMALL = dict(motion_dim=8, compressed_dim=3, normaliser_hidden=8, prior_dim=8, prior_heads=2, prior_layers=4,
             prior_kernel=3, estimator_layers=1, dropout=0.0)


def _inputs(b=2, t=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, 1, t)
    mask[1, :, 9:] = 0
    return torch.randn(b, 8, t, generator=g), torch.randn(b, 8, t, generator=g), mask


def test_prior_is_a_four_layer_conformer_and_cfm_is_the_shared_one():
    s = MotionSampler(MotionConfig(**SMALL))
    assert len(s.prior.blocks) == 4
    assert type(s.cfm) is FlowMatching


def test_losses_match_their_definitions():
    torch.manual_seed(0)
    s = MotionSampler(MotionConfig(**SMALL)).eval()
    f_m, f_lip, mask = _inputs()
    out = s.losses(f_m, f_lip, mask, generator=torch.Generator().manual_seed(5))
    f_c = s.normaliser.encode(f_m)
    f_hat = s.normaliser.decode(f_c)
    n = mask.sum() * 8
    torch.testing.assert_close(out["loss_ae"], ((f_hat - f_m) ** 2 * mask).sum() / n)
    mu = s.prior(f_m[:, :, 0], f_lip, mask)
    nll = -torch.distributions.Normal(mu, 1.0).log_prob(f_c)
    torch.testing.assert_close(out["loss_prior"], (nll * mask).sum() / (mask.sum() * 3))
    # OT-CFM: x0 ~ N(mu, I), x_t on the OT path, target u = x1 - (1 - sigma_min) x0
    g = torch.Generator().manual_seed(5)
    t = torch.rand(2, generator=g)
    x0 = torch.randn(f_c.shape, generator=g) + mu
    xt, ut = cfm_path(x0, f_c, t)
    torch.testing.assert_close(ut, f_c - (1 - 1e-4) * x0)
    pred = s.cfm.estimator(xt, mask, t, mu=mu, cond=f_lip)
    torch.testing.assert_close(out["loss_cfm"], masked_mse(pred, ut, mask))


def test_sampling_is_seeded_and_starts_from_the_prior():
    torch.manual_seed(1)
    s = MotionSampler(MotionConfig(**SMALL)).eval()
    f_m, f_lip, mask = _inputs()
    f_m0 = f_m[:, :, 0]
    a = s.sample(f_m0, f_lip, mask, n_steps=3, generator=torch.Generator().manual_seed(7))
    b = s.sample(f_m0, f_lip, mask, n_steps=3, generator=torch.Generator().manual_seed(7))
    c = s.sample(f_m0, f_lip, mask, n_steps=3, generator=torch.Generator().manual_seed(8))
    assert a.shape == (2, 8, 12)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert (a - c).abs().mean() > 1e-3
    assert a[1, :, 9:].abs().sum() == 0
    # zero-velocity estimator: the sample is the decoded prior draw mu + T·eps
    s.cfm.estimator.forward = lambda x, mask, t, mu, cond: torch.zeros_like(x)
    mu = s.prior(f_m0, f_lip, mask)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(9))
    got = s.sample(f_m0, f_lip, mask, n_steps=2, temperature=0.5, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(got, s.normaliser.decode((mu + 0.5 * eps) * mask) * mask)


def test_training_reduces_motion_losses():
    torch.manual_seed(2)
    s = MotionSampler(MotionConfig(**SMALL))
    _, f_lip, mask = _inputs()
    # like E_m's output, the motion lies in a low-dimensional subspace (3 codes here)
    basis = torch.linalg.qr(torch.randn(8, 3))[0]
    f_m = torch.einsum("dk,bkt->bdt", basis, torch.randn(2, 3, 12))
    g = torch.Generator().manual_seed(0)

    def fit(params, keys, steps):
        opt = torch.optim.Adam(params, lr=3e-3)
        hist = []
        for _ in range(steps):
            out = s.losses(f_m, f_lip, mask, generator=g)
            loss = sum(out[k] for k in keys)
            opt.zero_grad()
            loss.backward()
            opt.step()
            hist.append({k: float(out[k].detach()) for k in keys})
        return hist

    ae = fit(s.normaliser.parameters(), ["loss_ae"], 100)
    assert ae[-1]["loss_ae"] < 0.5 * ae[0]["loss_ae"]
    # with the normaliser fixed, f_c is a fixed target: prior NLL and CFM loss fall
    pc = fit(list(s.prior.parameters()) + list(s.cfm.parameters()), ["loss_prior", "loss_cfm"], 80)
    assert pc[-1]["loss_prior"] < pc[0]["loss_prior"] - 0.1
    mean = lambda h, k: sum(x[k] for x in h) / len(h)  # noqa: E731 (CFM loss is noisy: average 10 steps)
    assert mean(pc[-10:], "loss_cfm") < mean(pc[:10], "loss_cfm")
    assert all(math.isfinite(v) for v in pc[-1].values())
