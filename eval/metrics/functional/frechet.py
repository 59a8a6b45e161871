"""Fréchet distance between two Gaussians, and Gaussian statistics from running sums.

``FD = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))``.

``Tr((S1 S2)^(1/2))`` is computed as the sum of square roots of the eigenvalues of
the symmetric PSD matrix ``S1^(1/2) S2 S1^(1/2)`` (same eigenvalues as ``S1 S2``);
this is exact for singular covariances (fewer samples than dimensions), where
``scipy.linalg.sqrtm(S1 @ S2)`` (pytorch-fid) can go complex or lose accuracy.
:func:`trace_sqrt_product_fast` gives the same value from one Cholesky factor and one
symmetric eigensolve (used where many distances are needed).

Clip bootstrap: :class:`ClipStats` keeps per-clip feature means and frame counts beside
``sum x x^T``; :func:`resampled_gaussian` is the Gaussian of a resample of whole clips
(exact mean and between-clip covariance, pooled within-clip scatter scaled by the
resample's frame count) and :class:`ClipBootstrap` the Fréchet distance of paired
resamples of the generated and the real clips.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from eval.metrics.functional.sqrt_trace import resolvent_tables, resolvent_trace_sqrt


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


def clamp_at_zero(value: float) -> tuple[float, Optional[float]]:
    """``(max(value, 0), value if it was negative else None)``.

    A Fréchet distance is a squared distance, never below 0; the eigen-solver's rounding
    can still give tiny negatives (GT against itself: about -4e-05). The distance is
    reported as 0 and the raw value kept, so the clamp can be noted beside the number.
    """
    value = float(value)
    if value < 0.0:
        return 0.0, value
    return value, None


def gaussian_from_sums(total: np.ndarray, outer: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and unbiased covariance ``(d, d)`` from ``sum x``, ``sum x x^T`` and ``n``.

    Matches ``np.mean(x, 0)`` and ``np.cov(x, rowvar=False)`` (ddof 1) for ``n >= 2``.
    """
    if n < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {n}")
    mu = np.asarray(total, dtype=np.float64) / n
    sigma = (np.asarray(outer, dtype=np.float64) - n * np.outer(mu, mu)) / (n - 1)
    return mu, (sigma + sigma.T) / 2.0


def trace_sqrt_product_fast(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((sigma1 @ sigma2)^(1/2))`` for symmetric PSD ``(d, d)`` matrices, one eigensolve.

    With ``sigma2 = F F^T`` the non-zero eigenvalues of ``sigma1 @ sigma2`` are those of the
    symmetric PSD ``F^T sigma1 F``. ``F`` is the Cholesky factor of ``sigma2``; where that
    fails (singular ``sigma2``, e.g. fewer samples than dimensions) it is the symmetric
    eigen-factor ``V sqrt(lambda)`` over the positive eigenvalues, which gives the same
    eigenvalues as ``A sigma1 A`` with ``A = sigma2^(1/2)``. Same value as
    :func:`trace_sqrt_product` (tested to 1e-6 relative), about half the cost when the
    Cholesky factor exists.
    """
    sigma1 = np.asarray(sigma1, dtype=np.float64)
    sigma2 = np.asarray(sigma2, dtype=np.float64)
    try:
        factor = np.linalg.cholesky(sigma2)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh((sigma2 + sigma2.T) / 2.0)
        keep = values > 0.0
        factor = vectors[:, keep] * np.sqrt(values[keep])
    inner = factor.T @ sigma1 @ factor
    values = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


@dataclasses.dataclass(frozen=True)
class ClipStats:
    """Frame statistics of one side (generated or real), kept per clip.

    Attributes:
        means: per-clip feature means ``(k, d)`` (a row of zeros where ``counts`` is 0).
        counts: frames per clip ``(k,)``.
        outer: ``sum x x^T`` over every frame of every clip ``(d, d)``.
    """

    means: np.ndarray
    counts: np.ndarray
    outer: np.ndarray

    @property
    def n(self) -> int:
        return int(np.sum(self.counts))


def within_clip_scatter(stats: ClipStats) -> np.ndarray:
    """Pooled within-clip scatter ``W = sum x x^T - sum_i n_i m_i m_i^T`` ``(d, d)``."""
    means = np.asarray(stats.means, dtype=np.float64)
    counts = np.asarray(stats.counts, dtype=np.float64)
    scatter = np.asarray(stats.outer, dtype=np.float64) - (means.T * counts) @ means
    return (scatter + scatter.T) / 2.0


def resampled_gaussian(weights: np.ndarray, means: np.ndarray, counts: np.ndarray, within: np.ndarray,
                       n_total: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` of a clip resample (clip ``i`` taken ``w_i`` times).

    With ``N_b = sum w_i n_i``: the mean ``sum w_i n_i m_i / N_b`` is exact; the covariance
    ``(W N_b / N + sum w_i n_i m_i m_i^T - N_b mu mu^T) / (N_b - 1)`` is exact in its
    between-clip part and scales the pooled within-clip scatter ``within`` (``W``, from
    ``n_total`` = ``N`` frames) by ``N_b / N``, i.e. treats the within-clip scatter as
    homogeneous across clips. All weights 1 gives the full-sample Gaussian.

    Args:
        weights: multiplicity of each clip ``(k,)``.
        means: clip means ``(k, d)``; counts: frames per clip ``(k,)``.
        within: pooled within-clip scatter ``(d, d)`` (:func:`within_clip_scatter`).
    """
    mass = np.asarray(weights, dtype=np.float64) * np.asarray(counts, dtype=np.float64)
    n_b = float(mass.sum())
    if n_b < 2:
        raise ValueError(f"a resample needs at least 2 frames, got {n_b:g}")
    means = np.asarray(means, dtype=np.float64)
    mu = mass @ means / n_b
    centred = means - mu  # between-clip part about the resample mean (less cancellation)
    sigma = (np.asarray(within, dtype=np.float64) * (n_b / n_total) + (centred.T * mass) @ centred) / (n_b - 1.0)
    return mu, (sigma + sigma.T) / 2.0


class ClipBootstrap:
    """Fréchet distances of paired clip resamples of a generated and a real set.

    Clip ``i`` of ``gen`` and clip ``i`` of ``ref`` belong to the same item; a resample
    draws items with replacement and weights both sides' clips by the same multiplicity.
    Every resampled covariance lies in the column space of the full-sample covariance of
    its side (clip means and within-clip deviations are combinations of the centred
    frames), so where the side with fewer frames has a rank-deficient covariance (fewer
    frames than dimensions, or dead feature channels) the trace term is computed exactly
    in that support (``r x r`` instead of ``d x d``). Where the within-clip scatter of the
    factored side is positive definite the trace term is computed in a fixed whitened basis
    (:func:`_whitened_basis`; same value to float rounding, about 2x faster at d = 2048);
    where also the clips are few next to the rank (:func:`_resolvent_pays`, or ``rational=True``)
    that basis feeds resolvent traces of a rational square root
    (:mod:`eval.metrics.functional.sqrt_trace`: small solves instead of the ``r x r``
    eigensolve, same value to about 1e-13, about 5x faster again at 200 clips, d = 2048).
    ``rational=False`` keeps the eigensolve, ``whiten=False`` the general path (Cholesky of
    each resampled covariance).
    """

    def __init__(self, gen: ClipStats, ref: ClipStats, whiten: bool = True, rational: Optional[bool] = None):
        if np.shape(gen.means) != np.shape(ref.means):
            raise ValueError(f"clip means differ in shape: {np.shape(gen.means)} vs {np.shape(ref.means)}")
        self.k = len(gen.counts)
        self._prep = [self._prepare(stats) for stats in (gen, ref)]
        # the trace term is symmetric in the two covariances: factor the side with fewer frames
        self._factor = 1 if ref.n <= gen.n else 0
        f = self._prep[self._factor]
        _, full = resampled_gaussian(np.ones(self.k), f["centred"], f["counts"], f["within"], f["n"])
        basis = _support(full)
        self.rank = full.shape[0] if basis is None else basis.shape[1]
        for prep in self._prep:
            if basis is None:
                prep["p_centred"], prep["p_within"] = prep["centred"], prep["within"]
            else:
                prep["p_centred"] = prep["centred"] @ basis
                prep["p_within"] = basis.T @ prep["within"] @ basis
        self._whitened = _whitened_basis(self._prep[1 - self._factor], self._prep[self._factor]) if whiten else None
        self._resolvent = None
        if self._whitened is not None and (rational or (rational is None and _resolvent_pays(self.k, self.rank))):
            white = self._whitened
            self._resolvent = resolvent_tables(white["lam"], white["u"] @ white["rg"], white["h"],
                                               self._prep[self._factor]["counts"],
                                               self._prep[1 - self._factor]["counts"])

    @property
    def method(self) -> str:
        """``"resolvent"`` (fixed basis, small solves per resample), ``"whitened"`` (fixed basis, one
        eigensolve per resample) or ``"cholesky"`` (the general path)."""
        if self._resolvent is not None:
            return "resolvent"
        return "cholesky" if self._whitened is None else "whitened"

    @staticmethod
    def _prepare(stats: ClipStats) -> dict:
        counts = np.asarray(stats.counts, dtype=np.float64)
        if counts.sum() < 2:
            raise ValueError(f"a side needs at least 2 frames, got {counts.sum():g}")
        means = np.asarray(stats.means, dtype=np.float64)
        centre = counts @ means / counts.sum()
        centred = means - centre  # clip means about the full-sample mean (less cancellation)
        within = within_clip_scatter(stats)
        return {"counts": counts, "n": float(counts.sum()), "centre": centre, "centred": centred,
                "within": within, "trace_within": float(np.trace(within)),
                "sq_norms": np.einsum("ij,ij->i", centred, centred)}

    def distance(self, weights: np.ndarray) -> float:
        """FD of the resample with clip multiplicities ``weights`` ``(k,)``; NaN where a side has < 2 frames."""
        weights = np.asarray(weights, dtype=np.float64)
        moments = []
        for prep in self._prep:
            mass = weights * prep["counts"]
            n_b = float(mass.sum())
            if n_b < 2:
                return float("nan")
            shift = mass @ prep["centred"] / n_b  # resample mean - full-sample mean
            trace = (prep["trace_within"] * n_b / prep["n"] + mass @ prep["sq_norms"] - n_b * shift @ shift) / (n_b - 1)
            sigma = None
            if self._whitened is None:
                _, sigma = resampled_gaussian(weights, prep["p_centred"], prep["counts"], prep["p_within"], prep["n"])
            moments.append((prep["centre"] + shift, trace, sigma, mass, n_b))
        diff = moments[0][0] - moments[1][0]
        other, factor = moments[1 - self._factor], moments[self._factor]
        if self._whitened is None:
            cross = trace_sqrt_product_fast(other[2], factor[2])
        else:
            cross = None
            if self._resolvent is not None:
                cross = resolvent_trace_sqrt(self._resolvent, other[3], other[4], factor[3], factor[4])
            if cross is None:  # no tables, or the resample's eigenvalues may lie outside them
                cross = _whitened_trace_sqrt(self._whitened, other[3], other[4], factor[3], factor[4])
        return float(diff @ diff + moments[0][1] + moments[1][1] - 2.0 * cross)

    def replicates(self, resamples: int, seed: int, workers: Optional[int] = None) -> np.ndarray:
        """FD of ``resamples`` paired resamples ``(resamples,)`` (NaN: a side got < 2 frames).

        Deterministic for a given ``seed`` (``numpy.random.default_rng``): item ``j`` of
        resample ``b`` is ``integers(0, k)``, drawn resample by resample, before any distance
        is computed. ``workers`` resamples run at once, each with a single-threaded BLAS
        (default: the BLAS thread budget, so ``OMP_NUM_THREADS=1`` keeps one thread); a
        resample's eigensolve is mostly matrix-vector work that gains little from BLAS
        threads, whole resamples side by side gain about the number of cores.
        """
        rng = np.random.default_rng(seed)
        draws = [np.bincount(rng.integers(0, self.k, size=self.k), minlength=self.k) for _ in range(resamples)]
        workers = _blas_threads() if workers is None else int(workers)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if workers == 1 or resamples < 2:
            return np.array([self.distance(w) for w in draws], dtype=np.float64)
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(min(workers, resamples)) as pool:
            return np.array(list(pool.map(self.distance, draws)), dtype=np.float64)


def _blas_threads() -> int:
    """Threads the loaded BLAS libraries may use now (1 when none is reported)."""
    from threadpoolctl import threadpool_info

    return max([int(lib["num_threads"]) for lib in threadpool_info() if lib.get("user_api") == "blas"] or [1])


def _support(sigma: np.ndarray) -> "np.ndarray | None":
    """Orthonormal basis ``(d, r)`` of the numerical column space of PSD ``sigma``; None if full rank."""
    try:
        np.linalg.cholesky(sigma)
        return None  # positive definite
    except np.linalg.LinAlgError:
        pass
    values, vectors = np.linalg.eigh(sigma)
    top = max(float(values[-1]), 0.0)
    keep = values > top * sigma.shape[0] * np.finfo(np.float64).eps
    if keep.all() or top == 0.0:
        return None
    return vectors[:, keep]


def _resolvent_pays(clips: int, rank: int) -> bool:
    """Whether :func:`resolvent_trace_sqrt` is expected to beat one ``rank x rank`` eigensolve per resample.

    Measured at 1 thread (``bench.fid_bootstrap``, 200 clips, rank 2048): 0.19 s against 0.9 s
    per resample; the former grows as ``clips^3``, the latter as ``rank^3``: even near
    ``clips = rank / 6``.
    """
    return 6 * clips < rank


#: smallest ``min(diag L)^2 / max(diag L)^2`` of the within-scatter Cholesky factor for the whitened path
_WHITEN_MIN_CONDITION = 1e-10


def _whitened_basis(other: dict, factor: dict) -> "dict | None":
    """Fixed quantities of the whitened trace term, or None where the general path must be used.

    A resample's covariance on either side is ``a W + C^T M C`` (``W``: pooled within-clip
    scatter, fixed; ``C``: centred clip means ``(k, r)``, fixed; ``a`` and the ``(k, k)``
    matrix ``M`` depend on the resample only). With ``W_f = L L^T`` (factor side, Cholesky)
    and ``L^T W_o L = Q diag(lam) Q^T`` (one eigendecomposition, here), the eigenvalues of
    ``S_o S_f`` are those of ``T P`` with ``T = a_o diag(lam) + h M_o h^T`` and
    ``P = a_f I + g M_f g^T``, ``h = Q^T L^T C_o^T`` and ``g = Q^T L^{-1} C_f^T`` ``(r, k)``
    fixed. ``P`` is the identity plus rank ``k``, so its square root is too and
    ``P^(1/2) T P^(1/2)`` is formed in ``O(r^2 k)``; only its eigenvalues (one symmetric
    eigensolve) remain per resample, instead of a Cholesky factor, two ``r^3`` products and
    the eigensolve. None (general path) when ``W_f`` is not positive definite or is badly
    conditioned.
    """
    from scipy.linalg import solve_triangular

    within_f, within_o = factor["p_within"], other["p_within"]
    try:
        chol = np.linalg.cholesky(within_f)
    except np.linalg.LinAlgError:
        return None
    diag = np.diag(chol) ** 2
    if diag.min() <= _WHITEN_MIN_CONDITION * diag.max():
        return None
    inner = chol.T @ within_o @ chol
    lam, rotation = np.linalg.eigh((inner + inner.T) / 2.0)
    g = rotation.T @ solve_triangular(chol, factor["p_centred"].T, lower=True)
    h = rotation.T @ (chol.T @ other["p_centred"].T)
    left, singular, right_t = np.linalg.svd(g, full_matrices=False)
    return {"lam": lam, "h": h, "u": left, "rg": singular[:, None] * right_t,
            "n_other": other["n"], "n_factor": factor["n"]}


def _low_rank_gram(factor: np.ndarray, mass: np.ndarray, n_b: float) -> np.ndarray:
    """``X (diag(m) - m m^T / N_b) X^T / (N_b - 1)`` for ``X`` ``(r, k)``: the between-clip scatter."""
    weighted = factor @ mass
    return ((factor * mass) @ factor.T - np.outer(weighted, weighted) / n_b) / (n_b - 1.0)


def _between_times(mass: np.ndarray, n_b: float, right: np.ndarray) -> np.ndarray:
    """``(diag(m) - m m^T / N_b) / (N_b - 1) @ right`` for clip masses ``m`` ``(k,)``, ``right`` ``(k, c)``."""
    return (mass[:, None] * right - np.outer(mass, mass @ right) / n_b) / (n_b - 1.0)


def _eigvalsh(matrix: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric ``(r, r)`` matrix (LAPACK ``syevr``, eigenvalues only; ``matrix`` is overwritten)."""
    from scipy.linalg import eigh

    return eigh(matrix, eigvals_only=True, driver="evr", overwrite_a=True, check_finite=False)


def _whitened_trace_sqrt(basis: dict, mass_o: np.ndarray, n_o: float, mass_f: np.ndarray, n_f: float) -> float:
    """``Tr((S_o S_f)^(1/2))`` of one resample from :func:`_whitened_basis` (clip masses ``(k,)``).

    ``Y = P^(1/2) T P^(1/2)`` (see :func:`_whitened_basis`) is assembled as a diagonal plus
    one ``(r, c) @ (c, r)`` product and its transpose, ``c`` = the drawn clips plus the rank
    of ``P - a_f I``: with ``P^(1/2) = s I + V D V^T`` and ``T = a_o diag(lam) + h M_o h^T``,
    ``Y = s^2 a_o diag(lam) + X Z^T + Z X^T``, ``Z = [V, h]``,
    ``X = [s (T V) D + V (D V^T T V D) / 2, s^2 h M_o / 2]``; ``T V`` never forms ``T``.
    Only clips drawn at least once enter (zero mass adds nothing). Then one symmetric
    eigenvalue solve.
    """
    a_o = (n_o / basis["n_other"]) / (n_o - 1.0)
    a_f = (n_f / basis["n_factor"]) / (n_f - 1.0)
    lam = basis["lam"]
    drawn_f, drawn_o = mass_f > 0, mass_o > 0
    # P = a_f I + U A U^T  ->  P^(1/2) = s I + V diag(delta) V^T
    values, vectors = np.linalg.eigh(_low_rank_gram(basis["rg"][:, drawn_f], mass_f[drawn_f], n_f))
    values = np.clip(values, 0.0, None)
    keep = values > values.max() * values.size * np.finfo(np.float64).eps
    s = np.sqrt(a_f)
    delta = np.sqrt(a_f + values[keep]) - s
    v = basis["u"] @ vectors[:, keep]
    h, m_o = basis["h"][:, drawn_o], mass_o[drawn_o]
    tv = a_o * lam[:, None] * v + h @ _between_times(m_o, n_o, h.T @ v)  # T V
    inner = v.T @ tv
    inner = (inner + inner.T) / 2.0
    x = np.concatenate([s * tv * delta + v @ (delta[:, None] * inner * delta) / 2.0,
                        (s * s / 2.0) * _between_times(m_o, n_o, h.T).T], axis=1)
    z = np.concatenate([v, h], axis=1)
    half = x @ z.T
    y = half + half.T
    y[np.diag_indices_from(y)] += (s * s * a_o) * lam
    eig = _eigvalsh(y)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())
