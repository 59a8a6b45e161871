"""Cosine similarity of embedding vectors."""

from __future__ import annotations

import numpy as np


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two 1-D vectors ``(dim,)`` in float64.

    Raises ``ValueError`` for a zero-norm vector (the cosine is undefined there, and
    reporting 0 would be a fake number).
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"embedding shapes differ: {a.shape} vs {b.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0 or not (np.isfinite(na) and np.isfinite(nb)):
        raise ValueError("cosine similarity is undefined for a zero or non-finite embedding")
    return float(np.dot(a, b) / (na * nb))
