"""``Tr((S_o S_f)^(1/2))`` of many clip resamples from resolvent traces over a fixed basis.

In the whitened basis of :func:`eval.metrics.functional.frechet._whitened_basis` a
resample's two covariances are ``a_o T`` and ``a_f P`` with

    T = diag(lam) + H Mo H^T,    P = I + G Mf G^T,

``lam`` ``(r,)``, ``H``, ``G`` ``(r, k)`` fixed and only the ``(k, k)`` between-clip matrices
``Mo``, ``Mf`` (over the clips drawn) and the scalars ``a`` depending on the resample. The
trace term is ``sqrt(a_o a_f) Tr((T P)^(1/2))``.

``sqrt(x)`` is replaced by the rational function ``x sum_j c_j / (x + s_j)`` (the midpoint rule
of ``sqrt(x) = (2/pi) x int_0^inf dt / (t^2 + x)`` after the substitution
``t = sqrt(lo) sc(u | 1 - lo/hi)``, Hale, Higham & Trefethen, SIAM J. Numer. Anal. 46 (2008)),
accurate to a relative ``tol`` on ``[lo, hi]`` (checked on a grid when the nodes are made).
The eigenvalues of ``T P`` are at least ``min(lam)`` (``T >= diag(lam)``, ``P >= I``) and at
most a bound :func:`_upper_bound` computed per resample from ``(c, c)`` matrices. The nodes
are made once for ``[min(lam), 8 x`` the full sample's bound``]``; a resample whose bound lies
above is computed by the eigensolve instead. Inside,

    Tr((T P)^(1/2)) = sum_j c_j Tr(T P (T P + s_j)^(-1))   to a relative ``tol``,

and ``T P = diag(lam) + X S Y^T`` with ``Y = [G, H]``, ``X = [diag(lam) G, H]``,
``S = [[Mf, 0], [Mo H^T G Mf, Mo]]``, so by the Woodbury identity, with
``R_j = (diag(lam) + s_j)^(-1)``,

    Tr(T P (T P + s_j)^(-1)) = Tr(diag(lam) R_j) + s_j Tr((I + S Y^T R_j X)^(-1) S Y^T R_j^2 X).

``Y^T R_j X`` and ``Y^T R_j^2 X`` are gathers of the fixed ``(2k, 2k)`` matrices ``Z^T Z``,
``Z^T R_j Z``, ``Z^T R_j^2 Z`` (``Z = [G, H]``, made once; ``R_j diag(lam) = I - s_j R_j``):
a resample costs one ``(n, n)`` inverse and two ``(n, n/2) @ (n/2, n)`` products per node,
``n`` the clips drawn on both sides together, instead of an ``r x r`` eigensolve. There is
no exact reduction to a rank-sized eigenproblem: ``diag(lam)`` is not a multiple of ``I``,
so every eigenvalue of ``T P`` moves with the resample.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

#: largest relative error of the rational square root on its interval
RATIONAL_TOL = 1e-13
#: node counts tried, smallest first
_NODE_COUNTS = tuple(range(8, 65, 2))
#: largest memory of the node tables ``2 x nodes x (2 k)^2`` floats, bytes
_MAX_TABLE_BYTES = 256 * 2**20


def sqrt_rational_nodes(lo: float, hi: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Shifts ``s`` and weights ``c`` ``(count,)`` with ``sqrt(x) ~ x sum_j c_j / (x + s_j)`` on ``[lo, hi]``.

    Midpoint rule in ``u`` on ``[0, K]`` (``K`` the complete elliptic integral of parameter
    ``1 - lo/hi``) of ``int_0^K sqrt(lo) dn(u) / (lo sn(u)^2 + x cn(u)^2) du = pi / (2 sqrt(x))``;
    nodes past ``K/2`` use ``u = K - v`` (``sc(K - v) = cn(v) / (k' sn(v))``), which keeps the
    large shifts accurate.
    """
    from scipy.special import ellipj, ellipkm1

    if not 0.0 < lo < hi:
        raise ValueError(f"need 0 < lo < hi, got [{lo:g}, {hi:g}]")
    ratio = lo / hi
    quarter = ellipkm1(ratio)  # K(1 - lo/hi), accurate when lo/hi is small
    u = (np.arange(count) + 0.5) * quarter / count
    sn, cn, dn, _ = ellipj(u, 1.0 - ratio)
    snv, cnv, dnv, _ = ellipj(quarter - u, 1.0 - ratio)
    low = u <= quarter / 2.0
    shifts = np.where(low, lo * (sn / cn) ** 2, hi * (cnv / snv) ** 2)
    slope = np.where(low, dn / cn**2, dnv / (np.sqrt(ratio) * snv**2))
    return shifts, 2.0 * quarter * np.sqrt(lo) / (np.pi * count) * slope


def sqrt_rational_error(shifts: np.ndarray, weights: np.ndarray, lo: float, hi: float, points: int = 4001) -> float:
    """Largest relative error of ``x sum_j c_j / (x + s_j)`` against ``sqrt(x)`` on a geometric grid of ``[lo, hi]``."""
    x = np.geomspace(lo, hi, points)
    approx = x * (weights / (x[:, None] + shifts)).sum(axis=1)
    return float(np.max(np.abs(approx / np.sqrt(x) - 1.0)))


def sqrt_rational(lo: float, hi: float, tol: float = RATIONAL_TOL) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """The fewest nodes of :func:`sqrt_rational_nodes` within ``tol`` on ``[lo, hi]``; None if 64 do not reach it."""
    for count in _NODE_COUNTS:
        shifts, weights = sqrt_rational_nodes(lo, hi, count)
        if sqrt_rational_error(shifts, weights, lo, hi) <= tol:
            return shifts, weights
    return None


def resolvent_tables(lam: np.ndarray, g: np.ndarray, h: np.ndarray, counts_f: np.ndarray, counts_o: np.ndarray,
                     tol: float = RATIONAL_TOL) -> Optional[dict]:
    """Fixed tables of :func:`resolvent_trace_sqrt`, or None (no positive lower bound, or too much memory).

    The rational square root covers ``[min(lam), 8 x`` the :func:`_upper_bound` of the full sample``]``;
    a resample whose own bound lies above is left to the caller (:func:`resolvent_trace_sqrt`
    returns None).

    Args:
        lam: ``(r,)`` the other side's within scatter in the whitened basis (the factor side's is I).
        g, h: ``(r, k)`` the factor and the other side's centred clip means in that basis.
        counts_f, counts_o: frames per clip ``(k,)`` of the factor and the other side.
    """
    lo = float(np.min(lam))
    if not lo > 0.0:
        return None
    z = np.concatenate([g, h], axis=1)
    k = g.shape[1]
    gram0 = z.T @ z
    tables = {"k": k, "gram0": gram0, "lam_max": float(np.max(lam)), "glg": (g.T * lam) @ g,
              "n_factor": float(np.sum(counts_f)), "n_other": float(np.sum(counts_o))}
    hi = 8.0 * _upper_bound(tables, np.asarray(counts_o, dtype=np.float64), np.asarray(counts_f, dtype=np.float64))
    nodes = sqrt_rational(lo, hi, tol) if np.isfinite(hi) and hi > lo else None
    if nodes is None or 2 * nodes[0].size * (2 * k) ** 2 * 8 > _MAX_TABLE_BYTES:
        return None
    shifts, weights = nodes
    gram1, gram2 = [], []
    for shift in shifts:
        inverse = 1.0 / (lam + shift)
        scaled = z * np.sqrt(inverse)[:, None]
        gram1.append(scaled.T @ scaled)  # Z^T R Z
        scaled = z * inverse[:, None]
        gram2.append(scaled.T @ scaled)  # Z^T R^2 Z
    tables.update(shifts=shifts, weights=weights, hi=hi, lo=lo, gram1=np.stack(gram1), gram2=np.stack(gram2),
                  trace_lam=np.array([np.sum(lam / (lam + s)) for s in shifts]))
    return tables


def _between_hat(mass: np.ndarray, n_b: float, n_total: float) -> np.ndarray:
    """``(diag(m) - m m^T / N_b) N / N_b`` ``(c, c)``: a resample's between-clip scatter over ``a``."""
    return (np.diag(mass) - np.outer(mass, mass) / n_b) * (n_total / n_b)


def _largest_eigenvalue(matrix: np.ndarray) -> float:
    from scipy.linalg import eigh

    size = matrix.shape[0]
    return float(eigh(matrix, eigvals_only=True, subset_by_index=[size - 1, size - 1], check_finite=False)[0])


def _upper_bound(tables: dict, mass_o: np.ndarray, mass_f: np.ndarray) -> float:
    """An upper bound of the eigenvalues of ``T P`` for clip masses ``(k,)`` (both sides >= 2 frames).

    ``T P`` has the eigenvalues of ``T + T^(1/2) G Mf G^T T^(1/2)``, so (Weyl)
    ``lambda_max <= lambda_max(T) + lambda_max(Mf^(1/2) G^T T G Mf^(1/2))``, and
    ``lambda_max(T) <= max(lam) + lambda_max(Mo^(1/2) H^T H Mo^(1/2))``; with
    ``M <= diag(m) N / N_b`` both are bounded by eigenvalues of ``(c, c)`` matrices.
    """
    k, gram0 = tables["k"], tables["gram0"]
    drawn_f, drawn_o = np.flatnonzero(mass_f > 0), np.flatnonzero(mass_o > 0)
    n_f, n_o = float(mass_f.sum()), float(mass_o.sum())
    root_o = np.sqrt(mass_o[drawn_o] * tables["n_other"] / n_o)
    top_t = tables["lam_max"] + _largest_eigenvalue(root_o[:, None] * gram0[k + drawn_o[:, None], k + drawn_o] * root_o)
    cross = gram0[k + drawn_o[:, None], drawn_f]  # H^T G
    between_o = _between_hat(mass_o[drawn_o], n_o, tables["n_other"])
    gtg = tables["glg"][drawn_f[:, None], drawn_f] + cross.T @ between_o @ cross  # G^T T G
    root_f = np.sqrt(mass_f[drawn_f] * tables["n_factor"] / n_f)
    return (top_t + _largest_eigenvalue(root_f[:, None] * gtg * root_f)) * (1.0 + 1e-9)


def _apply_between(mass: np.ndarray, n_b: float, n_total: float, right: np.ndarray) -> np.ndarray:
    """``_between_hat(mass, ...) @ right`` for ``right`` ``(..., c, p)`` in ``O(c p)``."""
    total = np.einsum("i,...ip->...p", mass, right)
    return (mass[:, None] * right - mass[:, None] * total[..., None, :] / n_b) * (n_total / n_b)


def resolvent_trace_sqrt(tables: dict, mass_o: np.ndarray, n_o: float, mass_f: np.ndarray,
                         n_f: float) -> Optional[float]:
    """``Tr((S_o S_f)^(1/2))`` of one resample (clip masses ``(k,)``, frame totals ``n``) from :func:`resolvent_tables`.

    None where the resample's eigenvalue bound lies above the tables' interval (the caller
    computes that one otherwise). ``X S Y^T`` is written as ``[diag(lam) G, H] S' [G, H]^T`` with
    ``S' = [[Mf, 0], [Mo H^T G Mf, Mo]]``, so ``Y^T R X`` and ``Y^T R^2 X`` are gathers of the
    tables; per node one ``(n, n)`` inverse and ``(n, n/2) @ (n/2, n)`` products.
    """
    if _upper_bound(tables, mass_o, mass_f) > tables["hi"]:
        return None
    k, shifts = tables["k"], tables["shifts"]
    drawn_f, drawn_o = np.flatnonzero(mass_f > 0), np.flatnonzero(mass_o > 0)
    rows = np.concatenate([drawn_f, k + drawn_o])
    cut, size = drawn_f.size, rows.size
    m_f, m_o = mass_f[drawn_f], mass_o[drawn_o]
    n_tf, n_to = tables["n_factor"], tables["n_other"]
    coupling = _apply_between(m_o, n_o, n_to, tables["gram0"][k + drawn_o[:, None], drawn_f])  # Mo H^T G
    coupling = _apply_between(m_f, n_f, n_tf, coupling.T).T  # Mo H^T G Mf  (c_o, c_f)
    gram1 = tables["gram1"][:, rows[:, None], rows]  # Z^T R Z  (nodes, n, n)
    gram2 = tables["gram2"][:, rows[:, None], rows]
    gram0 = tables["gram0"][rows[:, None], drawn_f]
    step = shifts[:, None, None]
    first = np.concatenate([gram0 - step * gram1[..., :cut], gram1[..., cut:]], axis=2)  # Y^T R X'
    second = np.concatenate([gram1[..., :cut] - step * gram2[..., :cut], gram2[..., cut:]], axis=2)  # Y^T R^2 X'
    left = np.concatenate([_apply_between(m_f, n_f, n_tf, first[:, :cut]),
                           coupling @ first[:, :cut] + _apply_between(m_o, n_o, n_to, first[:, cut:])], axis=1)
    left[:, np.arange(size), np.arange(size)] += 1.0
    inverse = np.linalg.inv(left)  # (I + S' Y^T R X')^(-1)
    # (I + S' B1)^(-1) S' = [inv_f Mf + inv_o C, inv_o Mo]
    inv_f, inv_o = inverse[..., :cut], inverse[..., cut:]
    times = np.concatenate([_apply_between(m_f, n_f, n_tf, inv_f.transpose(0, 2, 1)).transpose(0, 2, 1)
                            + inv_o @ coupling,
                            _apply_between(m_o, n_o, n_to, inv_o.transpose(0, 2, 1)).transpose(0, 2, 1)], axis=2)
    correction = np.einsum("jab,jba->j", times, second)
    a_o = (n_o / n_to) / (n_o - 1.0)
    a_f = (n_f / n_tf) / (n_f - 1.0)
    total = tables["weights"] @ (tables["trace_lam"] + shifts * correction)
    return float(np.sqrt(a_o * a_f) * total)
