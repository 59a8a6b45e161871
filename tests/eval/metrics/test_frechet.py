import numpy as np
import pytest

from eval.metrics.functional.frechet import frechet_distance, gaussian_from_sums, trace_sqrt_product


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
