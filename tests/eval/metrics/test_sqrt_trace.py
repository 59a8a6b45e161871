"""The resolvent trace term of the clip bootstrap against the general (Cholesky) path."""

import numpy as np
import pytest

from eval.metrics.functional import sqrt_trace
from eval.metrics.functional.frechet import ClipBootstrap, ClipStats
from eval.metrics.functional.sqrt_trace import sqrt_rational, sqrt_rational_error, sqrt_rational_nodes


def _stats(clips):
    means = np.stack([c.mean(0) for c in clips])
    counts = np.array([len(c) for c in clips], dtype=float)
    return ClipStats(means, counts, sum(c.T @ c for c in clips))


def _sides(seed, d, k):
    """Heterogeneous clips (per-clip scale, length and mean), unequal sides."""
    rng = np.random.default_rng(seed)
    gen = [rng.standard_normal((n, d)) * s + rng.standard_normal(d)
           for n, s in zip(rng.integers(d // 2, d, k), rng.uniform(0.5, 2.0, k))]
    ref = [rng.standard_normal((n, d)) * s * 1.3 + rng.standard_normal(d) + 0.3
           for n, s in zip(rng.integers(d // 3, d, k), rng.uniform(0.5, 2.0, k))]
    return _stats(gen), _stats(ref)


@pytest.mark.parametrize("hi", [1e2, 1e4, 1e6, 1e8])
def test_rational_square_root_reaches_its_tolerance(hi):
    shifts, weights = sqrt_rational(1.0, hi)
    assert np.all(shifts > 0) and np.all(weights > 0)
    x = np.random.default_rng(0).uniform(1.0, hi, 500)
    approx = x * (weights / (x[:, None] + shifts)).sum(axis=1)
    np.testing.assert_allclose(approx, np.sqrt(x), rtol=sqrt_trace.RATIONAL_TOL, atol=0)
    # a wider interval needs more nodes; too few nodes are visibly wrong
    assert sqrt_rational_error(*sqrt_rational_nodes(1.0, hi, 4), 1.0, hi) > 1e-5
    if hi > 1e2:
        assert shifts.size > sqrt_rational(1.0, hi / 100)[0].size


def test_rational_square_root_gives_up_where_scipy_elliptic_functions_limit_it():
    assert sqrt_rational(1.0, 1e14) is None  # the caller then takes the eigensolve


def _tables_and_moments(boot, weights):
    """``T``, ``P`` (whitened basis, over ``a``) of one resample and its masses, for checking the bound."""
    white, tables = boot._whitened, boot._resolvent
    factor, other = boot._prep[boot._factor], boot._prep[1 - boot._factor]
    mass_f, mass_o = weights * factor["counts"], weights * other["counts"]
    g, h = white["u"] @ white["rg"], white["h"]
    between = sqrt_trace._between_hat
    t = np.diag(white["lam"]) + h @ between(mass_o, mass_o.sum(), other["n"]) @ h.T
    p = np.eye(g.shape[0]) + g @ between(mass_f, mass_f.sum(), factor["n"]) @ g.T
    return tables, t, p, mass_o, mass_f


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_eigenvalue_bounds_hold_for_resamples(seed):
    rng = np.random.default_rng(seed)
    boot = ClipBootstrap(*_sides(seed, int(rng.integers(10, 40)), int(rng.integers(3, 15))), rational=True)
    for _ in range(10):
        weights = np.bincount(rng.integers(0, boot.k, boot.k), minlength=boot.k).astype(float)
        tables, t, p, mass_o, mass_f = _tables_and_moments(boot, weights)
        values = np.linalg.eigvals(t @ p).real
        assert values.min() >= tables["lo"] * (1 - 1e-12)
        assert values.max() <= sqrt_trace._upper_bound(tables, mass_o, mass_f)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_resolvent_bootstrap_matches_the_general_path(seed, monkeypatch):
    """Both sides resampled (paired clips): the resolvent replicates are the general path's to
    float rounding, and every resample of these was computed by the resolvent path."""
    rng = np.random.default_rng(100 + seed)
    gen, ref = _sides(seed, int(rng.integers(10, 40)), int(rng.integers(3, 15)))
    fast = ClipBootstrap(gen, ref, rational=True)
    general = ClipBootstrap(gen, ref, whiten=False)
    assert (fast.method, general.method) == ("resolvent", "cholesky")
    calls = []
    inner = sqrt_trace.resolvent_trace_sqrt

    def counted(*args):
        calls.append(inner(*args))
        return calls[-1]

    monkeypatch.setattr("eval.metrics.functional.frechet.resolvent_trace_sqrt", counted)
    np.testing.assert_allclose(fast.replicates(20, seed=seed), general.replicates(20, seed=seed), rtol=1e-11)
    assert len(calls) == 20 and all(value is not None for value in calls)
    weights = np.zeros(fast.k)
    weights[[0, fast.k - 1]] = [3, 1]  # two clips only
    assert fast.distance(weights) == pytest.approx(general.distance(weights), rel=1e-11)


def test_resolvent_falls_back_to_the_eigensolve_outside_its_interval():
    gen, ref = _sides(7, 24, 8)
    fast = ClipBootstrap(gen, ref, rational=True)
    general = ClipBootstrap(gen, ref, whiten=False)
    fast._resolvent["hi"] = fast._resolvent["lo"] * 1.01  # every resample's bound lies above
    weights = np.array([2.0, 0, 1, 1, 0, 3, 1, 0])
    _, _, _, mass_o, mass_f = _tables_and_moments(fast, weights)
    assert sqrt_trace.resolvent_trace_sqrt(fast._resolvent, mass_o, mass_o.sum(), mass_f, mass_f.sum()) is None
    assert fast.distance(weights) == pytest.approx(general.distance(weights), rel=1e-11)


def test_resolvent_is_chosen_where_it_pays():
    gen, ref = _sides(8, 64, 8)  # 8 clips, 64 dims: k < r / 6
    assert ClipBootstrap(gen, ref).method == "resolvent"
    assert ClipBootstrap(gen, ref, rational=False).method == "whitened"
    gen, ref = _sides(8, 24, 8)  # 8 clips, 24 dims: one 24 x 24 eigensolve is cheaper
    assert ClipBootstrap(gen, ref).method == "whitened"


def test_resolvent_in_the_support_of_dead_channels_and_side_by_side_resamples():
    """Dead feature channels on both sides: the trace term runs in the covariance's support
    (``rank < d``); the resolvent replicates equal the general path's, and resamples run
    side by side give the serial values."""
    rng = np.random.default_rng(31)
    d, k, dead = 30, 6, [2, 11, 29]
    sides = []
    for scale, shift in ((1.0, 0.0), (1.4, 0.3)):
        clips = [rng.standard_normal((n, d)) * scale + rng.standard_normal(d) + shift for n in rng.integers(20, 30, k)]
        for clip in clips:
            clip[:, dead] = 0.0
        sides.append(_stats(clips))
    fast = ClipBootstrap(*sides, rational=True)
    general = ClipBootstrap(*sides, whiten=False)
    assert fast.method == "resolvent" and fast.rank == d - len(dead)
    serial = fast.replicates(15, seed=2, workers=1)
    np.testing.assert_allclose(serial, general.replicates(15, seed=2, workers=1), rtol=1e-11)
    np.testing.assert_array_equal(fast.replicates(15, seed=2, workers=2), serial)
