"""MAS: the batched implementation equals the plain-Python DP, including masks and ties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from ttsf.tts.alignment import gaussian_log_prior, mas, mas_reference, path_from_durations, regulate, sequence_mask


def _brute_force(log_p: np.ndarray) -> float:
    """Best monotonic-alignment score by enumerating every duration split."""
    tx, ty = log_p.shape
    best = -math.inf
    for cuts in itertools.combinations(range(1, ty), tx - 1):
        bounds = (0,) + cuts + (ty,)
        s = sum(log_p[i, bounds[i]:bounds[i + 1]].sum() for i in range(tx))
        best = max(best, s)
    return best


def test_reference_is_optimal_on_small_cases():
    rng = np.random.default_rng(1)
    for _ in range(30):
        tx = int(rng.integers(1, 5))
        ty = int(rng.integers(tx, 9))
        lp = rng.normal(size=(tx, ty))
        path = mas_reference(lp, tx, ty)
        assert path.sum() == ty and (path.sum(0) == 1).all() and (path.sum(1) >= 1).all()
        assert np.isclose((path * lp).sum(), _brute_force(lp))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("ties", [False, True])
def test_batched_mas_equals_reference_with_masks(ties, backend):
    rng = np.random.default_rng(0 if not ties else 7)
    for _ in range(25):
        b, tx = 4, int(rng.integers(1, 9))
        ty = int(rng.integers(tx, 30))
        lp = rng.integers(-2, 1, size=(b, tx, ty)).astype(np.float64) if ties else rng.normal(size=(b, tx, ty))
        tl = rng.integers(1, tx + 1, size=b)
        tl[0] = tx
        ml = np.array([rng.integers(t, ty + 1) for t in tl])
        ml[-1] = ty
        path = mas(torch.tensor(lp, dtype=torch.float32), torch.tensor(tl), torch.tensor(ml), backend=backend).numpy()
        for k in range(b):
            ref = mas_reference(lp[k, : tl[k], : ml[k]].astype(np.float32), int(tl[k]), int(ml[k]))
            np.testing.assert_array_equal(path[k, : tl[k], : ml[k]], ref)
            assert path[k].sum() == ml[k]  # nothing outside the valid region
            assert path[k, tl[k]:].sum() == 0 and path[k, :, ml[k]:].sum() == 0


def test_mas_refuses_more_tokens_than_frames():
    with pytest.raises(ValueError, match="cannot align"):
        mas(torch.zeros(1, 5, 3), torch.tensor([5]), torch.tensor([3]))


def test_gaussian_log_prior_matches_direct_formula():
    g = torch.Generator().manual_seed(0)
    mu, y = torch.randn(2, 6, 4, generator=g), torch.randn(2, 6, 7, generator=g)
    direct = torch.distributions.Normal(mu[:, :, :, None], 1.0).log_prob(y[:, :, None, :]).sum(1)
    torch.testing.assert_close(gaussian_log_prior(mu, y), direct, atol=1e-4, rtol=1e-5)


def test_durations_to_path_and_regulation():
    d = torch.tensor([[2, 1, 3], [1, 2, 0]])
    mask = sequence_mask(torch.tensor([3, 2]), 3)
    path = path_from_durations(d, mask, 6)
    assert path[0].argmax(0).tolist() == [0, 0, 1, 2, 2, 2]
    assert path[1].sum().item() == 3 and path[1, :, 3:].sum() == 0
    x = torch.arange(6.0).view(1, 2, 3).expand(2, -1, -1)
    assert regulate(x, path)[0, 0].tolist() == [0, 0, 1, 2, 2, 2]
