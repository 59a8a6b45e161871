"""Fréchet distance between two Gaussians, and Gaussian statistics from running sums.

``FD = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))``.

``Tr((S1 S2)^(1/2))`` is computed as the sum of square roots of the eigenvalues of
the symmetric PSD matrix ``S1^(1/2) S2 S1^(1/2)`` (same eigenvalues as ``S1 S2``);
this is exact for singular covariances (fewer samples than dimensions), where
``scipy.linalg.sqrtm(S1 @ S2)`` (pytorch-fid) can go complex or lose accuracy.
"""

from __future__ import annotations

import numpy as np


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix ``(d, d)``."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    values = np.clip(values, 0.0, None)
    return (vectors * np.sqrt(values)) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((sigma1 @ sigma2)^(1/2))`` for symmetric PSD ``(d, d)`` matrices."""
    root1 = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    inner = root1 @ np.asarray(sigma2, dtype=np.float64) @ root1
    values = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means ``(d,)``.
        sigma1, sigma2: covariances ``(d, d)``.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return float(value)


def gaussian_from_sums(total: np.ndarray, outer: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and unbiased covariance ``(d, d)`` from ``sum x``, ``sum x x^T`` and ``n``.

    Matches ``np.mean(x, 0)`` and ``np.cov(x, rowvar=False)`` (ddof 1) for ``n >= 2``.
    """
    if n < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {n}")
    mu = np.asarray(total, dtype=np.float64) / n
    sigma = (np.asarray(outer, dtype=np.float64) - n * np.outer(mu, mu)) / (n - 1)
    return mu, (sigma + sigma.T) / 2.0
