import numpy as np
import pytest

from eval.metrics.functional.frechet import (
    ClipBootstrap,
    ClipStats,
    frechet_distance,
    gaussian_from_sums,
    resampled_gaussian,
    trace_sqrt_product,
    trace_sqrt_product_fast,
    within_clip_scatter,
)


def _random_cov(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


def test_equal_covariances_give_squared_mean_distance():
    rng = np.random.default_rng(0)
    sigma = _random_cov(rng, 16)
    mu1, mu2 = rng.standard_normal(16), rng.standard_normal(16)
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(float(np.sum((mu1 - mu2) ** 2)), rel=1e-9)


def test_identical_gaussians_give_zero_even_when_singular():
    rng = np.random.default_rng(1)
    sigma = _random_cov(rng, 32, rank=5)  # fewer samples than dims
    mu = rng.standard_normal(32)
    # sqrt of ~1e-16 null-space eigenvalues leaves ~1e-8 each: tiny next to Tr(sigma) ~ 4
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6 * np.trace(sigma)


def test_matches_scipy_sqrtm_definition():
    from scipy import linalg

    rng = np.random.default_rng(2)
    s1, s2 = _random_cov(rng, 12), _random_cov(rng, 12)
    expected = np.trace(linalg.sqrtm(s1 @ s2).real)
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-8)
    # diagonal case: (sqrt(a) - sqrt(b))^2 summed
    a, b = rng.random(6) + 0.1, rng.random(6) + 0.1
    fd = frechet_distance(np.zeros(6), np.diag(a), np.zeros(6), np.diag(b))
    assert fd == pytest.approx(float(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)), rel=1e-9)


def test_gaussian_from_sums_matches_numpy_and_merges():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 7)) * 3 + 1
    mu, sigma = gaussian_from_sums(x.sum(0), x.T @ x, len(x))
    np.testing.assert_allclose(mu, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-12)
    half1, half2 = x[:20], x[20:]
    merged = gaussian_from_sums(half1.sum(0) + half2.sum(0), half1.T @ half1 + half2.T @ half2, 50)
    np.testing.assert_allclose(merged[1], sigma, rtol=1e-12)
    with pytest.raises(ValueError):
        gaussian_from_sums(x[:1].sum(0), x[:1].T @ x[:1], 1)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _fd_fast(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product_fast(s1, s2))


@pytest.mark.parametrize("rank1,rank2", [(None, None), (None, 6), (6, None), (5, 9)])
def test_fast_trace_term_matches_frechet_distance(rank1, rank2):
    """Cholesky route (and its eigen-factor fallback for singular sigma2) vs the eigh route."""
    rng = np.random.default_rng(10)
    d = 48
    s1, s2 = _random_cov(rng, d, rank1), _random_cov(rng, d, rank2)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d) * 0.1
    ours, reference = _fd_fast(mu1, s1, mu2, s2), frechet_distance(mu1, s1, mu2, s2)
    assert abs(ours - reference) <= 1e-6 * abs(reference)
    if rank1 is None and rank2 is None:
        from scipy import linalg

        assert trace_sqrt_product_fast(s1, s2) == pytest.approx(np.trace(linalg.sqrtm(s1 @ s2).real), rel=1e-8)
    else:  # the singular case really takes the fallback
        with pytest.raises(np.linalg.LinAlgError):
            np.linalg.cholesky(s2 if rank2 else s1)


def _clips(rng, k, d, frames, offset=0.0, spread=0.5):
    """k clips of ``frames`` (int or per-clip list) frames ``(n_i, d)``; clip means vary."""
    counts = [frames] * k if isinstance(frames, int) else list(frames)
    return [rng.standard_normal((n, d)) + offset + spread * rng.standard_normal(d) for n in counts]


def _stats(clips, k=None):
    means = np.stack([c.mean(0) for c in clips])
    counts = np.array([len(c) for c in clips], dtype=float)
    outer = sum(c.T @ c for c in clips)
    return ClipStats(means, counts, outer)


def test_all_ones_resample_is_the_full_sample_gaussian():
    rng = np.random.default_rng(11)
    clips = _clips(rng, 7, 5, [3, 8, 2, 5, 9, 4, 6], offset=2.0)
    stats = _stats(clips)
    frames = np.concatenate(clips)
    mu, sigma = resampled_gaussian(np.ones(7), stats.means, stats.counts, within_clip_scatter(stats), len(frames))
    np.testing.assert_allclose(mu, frames.mean(0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(sigma, np.cov(frames, rowvar=False), rtol=0, atol=1e-9)


def test_resample_is_exact_when_within_clip_scatter_is_homogeneous():
    """Every clip = its own mean + the same zero-mean deviations: the pooled within-clip
    approximation is then exact, so a resample equals the Gaussian of the replicated frames."""
    rng = np.random.default_rng(12)
    dev = rng.standard_normal((6, 4))
    dev -= dev.mean(0)
    clips = [m + dev for m in rng.standard_normal((5, 4)) * 3]
    stats = _stats(clips)
    weights = np.array([2, 0, 1, 0, 2])
    replicated = np.concatenate([c for c, w in zip(clips, weights) for _ in range(w)])
    mu, sigma = resampled_gaussian(weights, stats.means, stats.counts, within_clip_scatter(stats), 30)
    np.testing.assert_allclose(mu, replicated.mean(0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(sigma, np.cov(replicated, rowvar=False), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="at least 2 frames"):
        resampled_gaussian(np.zeros(5), stats.means, stats.counts, within_clip_scatter(stats), 30)


@pytest.mark.parametrize("d,frames", [(6, 10), (40, 3)])  # full rank; singular (24 frames < 40 dims)
def test_clip_bootstrap_distance(d, frames):
    rng = np.random.default_rng(13)
    dev_g, dev_r = rng.standard_normal((frames, d)), rng.standard_normal((frames, d)) * 1.5
    dev_g -= dev_g.mean(0)
    dev_r -= dev_r.mean(0)
    gen = [m + dev_g for m in rng.standard_normal((8, d))]
    ref = [m + dev_r for m in rng.standard_normal((8, d)) + 0.4]
    boot = ClipBootstrap(_stats(gen), _stats(ref))
    # shared deviations span frames - 1 dims, the clip means 7 more
    assert boot.rank == min(d, frames - 1 + 7)
    # all weights 1: the point estimate
    g, r = np.concatenate(gen), np.concatenate(ref)
    full = frechet_distance(g.mean(0), np.cov(g, rowvar=False), r.mean(0), np.cov(r, rowvar=False))
    assert boot.distance(np.ones(8)) == pytest.approx(full, rel=1e-6)
    # a resample (homogeneous clips: exact) equals the FD of the replicated frames, paired by item
    weights = np.array([3, 0, 1, 0, 0, 2, 1, 1])
    g = np.concatenate([c for c, w in zip(gen, weights) for _ in range(w)])
    r = np.concatenate([c for c, w in zip(ref, weights) for _ in range(w)])
    expected = frechet_distance(g.mean(0), np.cov(g, rowvar=False), r.mean(0), np.cov(r, rowvar=False))
    assert boot.distance(weights) == pytest.approx(expected, rel=1e-6)
    # seeded replicates are reproducible
    np.testing.assert_array_equal(boot.replicates(5, seed=4), boot.replicates(5, seed=4))
    assert not np.array_equal(boot.replicates(5, seed=4), boot.replicates(5, seed=5))


def test_clip_bootstrap_skips_resamples_without_frames_on_a_side():
    rng = np.random.default_rng(14)
    gen = _clips(rng, 3, 4, 5)
    ref = _clips(rng, 2, 4, 5)
    ref_stats = _stats(ref)
    ref_stats = ClipStats(np.vstack([ref_stats.means, np.zeros(4)]), np.append(ref_stats.counts, 0), ref_stats.outer)
    boot = ClipBootstrap(_stats(gen), ref_stats)
    assert np.isnan(boot.distance(np.array([0, 0, 3])))  # only the clip without reference frames
    assert np.isfinite(boot.distance(np.array([1, 1, 1])))


def test_clamp_at_zero_keeps_the_raw_negative():
    from eval.metrics.functional.frechet import clamp_at_zero

    assert clamp_at_zero(-3.7e-05) == (0.0, -3.7e-05)
    assert clamp_at_zero(0.0) == (0.0, None) and clamp_at_zero(2.5) == (2.5, None)


def test_whitened_bootstrap_matches_the_general_path():
    """The fixed-basis trace term gives the general path's seeded replicates to float rounding."""
    rng = np.random.default_rng(21)
    d = 24
    # heterogeneous clips: per-clip scale and length, unequal sides (the smaller side is factored)
    gen = [rng.standard_normal((n, d)) * s + rng.standard_normal(d)
           for n, s in zip(rng.integers(6, 14, 10), rng.uniform(0.5, 2.0, 10))]
    ref = [rng.standard_normal((n, d)) * s * 1.3 + rng.standard_normal(d) + 0.3
           for n, s in zip(rng.integers(4, 9, 10), rng.uniform(0.5, 2.0, 10))]
    fast = ClipBootstrap(_stats(gen), _stats(ref))
    general = ClipBootstrap(_stats(gen), _stats(ref), whiten=False)
    assert (fast.method, general.method) == ("whitened", "cholesky")
    np.testing.assert_allclose(fast.replicates(20, seed=3), general.replicates(20, seed=3), rtol=1e-9)
    g, r = np.concatenate(gen), np.concatenate(ref)
    full = frechet_distance(g.mean(0), np.cov(g, rowvar=False), r.mean(0), np.cov(r, rowvar=False))
    assert fast.distance(np.ones(10)) == pytest.approx(full, rel=1e-9)
    weights = np.array([0, 3, 1, 0, 2, 1, 0, 1, 2, 0])  # zero-weight clips and repeats
    assert fast.distance(weights) == pytest.approx(general.distance(weights), rel=1e-10)


def test_whitened_bootstrap_falls_back_when_within_scatter_is_singular():
    rng = np.random.default_rng(22)
    d, frames = 40, 3  # 24 frames < 40 dims: singular within-clip scatter
    gen, ref = _clips(rng, 8, d, frames), _clips(rng, 8, d, frames, offset=0.4)
    boot = ClipBootstrap(_stats(gen), _stats(ref))
    assert boot.method == "cholesky"
    g, r = np.concatenate(gen), np.concatenate(ref)
    full = frechet_distance(g.mean(0), np.cov(g, rowvar=False), r.mean(0), np.cov(r, rowvar=False))
    assert boot.distance(np.ones(8)) == pytest.approx(full, rel=1e-6)


@pytest.mark.parametrize("ref_frames", [(3, 5), (9, 12)])  # reference side factored / not factored
def test_whitened_bootstrap_with_more_clips_than_dims_and_an_empty_clip_matches_the_general_path(ref_frames):
    """Low-rank products over drawn clips only: clips never drawn, a clip with no reference
    frames (drawn on one side only) and more clips than dimensions give the general path's
    distances; parallel resamples give the serial ones."""
    rng = np.random.default_rng(23)
    d, k = 12, 30
    gen = [rng.standard_normal((n, d)) * s + rng.standard_normal(d)
           for n, s in zip(rng.integers(3, 8, k), rng.uniform(0.5, 2.0, k))]
    ref = [rng.standard_normal((n, d)) * 1.2 + rng.standard_normal(d) + 0.2 for n in rng.integers(*ref_frames, k)]
    gen_stats, ref_stats = _stats(gen), _stats(ref)
    ref_stats = ClipStats(np.vstack([ref_stats.means[:-1], np.zeros(d)]),
                          np.append(ref_stats.counts[:-1], 0.0), ref_stats.outer - ref[-1].T @ ref[-1])
    fast = ClipBootstrap(gen_stats, ref_stats)
    general = ClipBootstrap(gen_stats, ref_stats, whiten=False)
    assert (fast.method, general.method) == ("whitened", "cholesky")
    weights = np.zeros(k)
    weights[[0, 3, 7, k - 1]] = [2, 1, 3, 1]  # the empty reference clip drawn: mass on one side only
    assert fast.distance(weights) == pytest.approx(general.distance(weights), rel=1e-10)
    assert fast._factor == (1 if ref_frames[0] < 5 else 0)  # the side with fewer frames is factored
    serial = fast.replicates(12, seed=8, workers=1)
    np.testing.assert_allclose(serial, general.replicates(12, seed=8, workers=1), rtol=1e-9)
    np.testing.assert_allclose(fast.replicates(12, seed=8, workers=3), serial, rtol=1e-12)
    with pytest.raises(ValueError, match="workers"):
        fast.replicates(2, seed=8, workers=0)
