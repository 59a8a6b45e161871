"""Landmark/audio lip-sync: per-clip canonical correlation over offsets, SyncNet semantics.

A SyncNet-free lip-sync measure in the tradition of audio-visual synchrony by canonical
correlation (Slaney & Covell, "FaceSync", NIPS 2000): nothing is trained; for each clip the
best linear match between lip-shape features and speech features is found at every
audio-video offset, and the offset where the match is best is the clip's offset.

Per video frame ``t`` (25 fps):

- **lip features** (:func:`lip_features`, 6 dims) from dlib's 68 landmarks, in units of
  the outer-eye-corner distance (so head size and distance to camera cancel): inner lip
  opening (mean of 61-67, 62-66, 63-65), outer lip opening (mean of 50-58, 51-57, 52-56),
  inner and outer mouth width (60-64, 48-54), and the central differences of both openings;
- **audio features** (:func:`audio_features`, 7 dims) from the same MFCCs SyncNet reads
  (:func:`ttsf.pretrained.mfcc.mfcc`, 100 Hz): ``c0`` (log energy) .. ``c5``
  averaged over the four MFCC frames ``4t .. 4t+3`` of video frame ``t`` (SyncNet's
  alignment), and the central difference of ``c0``.

For each lag ``j = -vshift .. +vshift`` (audio frame ``t + j`` against video frame ``t``,
over the frames where both exist) the first canonical correlation ``rho(j)`` of the two
feature sets is computed with ridge shrinkage ``lam`` of both correlation matrices towards
the identity (:func:`first_canonical_correlation`). The distance at that lag is the RMS
distance between the unit-variance canonical variates, ``d(j) = sqrt(2 (1 - rho(j)))``;
the ``(2 vshift + 1,)`` vector of ``d`` goes through
:func:`eval.metrics.functional.lse.lse_from_distances` unchanged, so ``offset``, ``LSE-D``
(min) and ``LSE-C`` (median - min) have syncnet_python's semantics and sign (positive
offset = audio leads: the best audio frame for video frame ``t`` is ``t - offset``).
LSE-C here is in units of canonical-variate distance (0 .. 2): NOT comparable with
SyncNet's LSE-C.
"""

from __future__ import annotations

import numpy as np

from ttsf.pretrained.mfcc import mfcc

#: Ridge shrinkage of the feature correlation matrices towards the identity.
RIDGE = 0.1
#: Features with a standard deviation below this (in their own units) are dropped.
MIN_STD = 1e-6
#: Audio-video frames that must overlap at the largest lag.
MIN_OVERLAP = 16


def _central_difference(x: np.ndarray) -> np.ndarray:
    """``(T,)`` -> ``(T,)``: ``(x[t+1] - x[t-1]) / 2`` inside, one-sided at the ends."""
    return np.gradient(np.asarray(x, dtype=np.float64))


def lip_features(landmarks: np.ndarray) -> np.ndarray:
    """Lip-shape features ``(T, 6)`` from dlib 68-point landmarks ``(T, 68, 2)``."""
    p = np.asarray(landmarks, dtype=np.float64)

    def dist(a, b):
        return np.linalg.norm(p[:, a] - p[:, b], axis=-1)

    eyes = np.maximum(dist(36, 45), 1e-6)
    inner = (dist(61, 67) + dist(62, 66) + dist(63, 65)) / 3 / eyes
    outer = (dist(50, 58) + dist(51, 57) + dist(52, 56)) / 3 / eyes
    inner_w = dist(60, 64) / eyes
    outer_w = dist(48, 54) / eyes
    return np.stack([inner, outer, inner_w, outer_w, _central_difference(inner), _central_difference(outer)], 1)


def audio_features(audio: np.ndarray, n_frames: int, n_ceps: int = 6) -> np.ndarray:
    """Speech features ``(n_frames, n_ceps + 1)`` per video frame.

    Args:
        audio: ``(samples,)`` 16 kHz at int16 scale (see
            :func:`ttsf.pretrained.mfcc.to_int16_scale`); frames without audio
            behind them are filled with the last available values.
    """
    cc = mfcc(audio)[:, :n_ceps]  # (M, n_ceps), 100 Hz
    usable = min(n_frames, len(cc) // 4)
    if usable < 1:
        raise ValueError(f"audio too short for one video frame: {len(audio)} samples")
    per_frame = cc[: 4 * usable].reshape(usable, 4, n_ceps).mean(1)
    if usable < n_frames:
        per_frame = np.concatenate([per_frame, np.repeat(per_frame[-1:], n_frames - usable, 0)])
    return np.concatenate([per_frame, _central_difference(per_frame[:, 0])[:, None]], 1)


def _whiten(corr: np.ndarray, lam: float) -> np.ndarray:
    """``((1 - lam) C + lam I)^(-1/2)`` of a correlation matrix ``(k, k)``."""
    values, vectors = np.linalg.eigh((1.0 - lam) * corr + lam * np.eye(len(corr)))
    return vectors @ np.diag(1.0 / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T


def first_canonical_correlation(x: np.ndarray, y: np.ndarray, lam: float = RIDGE) -> float:
    """First regularised canonical correlation of ``x`` ``(n, p)`` and ``y`` ``(n, q)``.

    Columns are standardised; columns with std < :data:`MIN_STD` are dropped; if either
    side has none left (e.g. a still face) the correlation is 0.
    """
    def standardise(a):
        a = a - a.mean(0)
        std = a.std(0)
        keep = std > MIN_STD
        return a[:, keep] / std[keep]

    xs, ys = standardise(x), standardise(y)
    if xs.shape[1] == 0 or ys.shape[1] == 0:
        return 0.0
    n = len(xs)
    cxx, cyy, cxy = xs.T @ xs / n, ys.T @ ys / n, xs.T @ ys / n
    m = _whiten(cxx, lam) @ ((1.0 - lam) * cxy) @ _whiten(cyy, lam)
    return float(np.clip(np.linalg.svd(m, compute_uv=False)[0], 0.0, 1.0))


def lag_correlations(lip: np.ndarray, speech: np.ndarray, vshift: int = 15, lam: float = RIDGE) -> np.ndarray:
    """``rho`` at lags ``-vshift .. +vshift`` (index ``j + vshift``): ``(2 vshift + 1,)``.

    Args:
        lip: ``(T, p)`` video-frame features; speech: ``(T, q)`` audio features on the same
            frame grid. Lag ``j`` pairs video frame ``t`` with audio frame ``t + j``.
    """
    count = min(len(lip), len(speech))
    if count - vshift < MIN_OVERLAP:
        raise ValueError(f"{count} frames leave fewer than {MIN_OVERLAP} overlapping frames at lag {vshift}")
    out = np.empty(2 * vshift + 1)
    for j in range(-vshift, vshift + 1):
        lo, hi = max(0, -j), min(count, count - j)
        out[j + vshift] = first_canonical_correlation(lip[lo:hi], speech[lo + j:hi + j], lam)
    return out


def landmark_lse(landmarks: np.ndarray, audio: np.ndarray, vshift: int = 15, lam: float = RIDGE) -> dict:
    """LSE-style result of one clip (see module doc).

    Args:
        landmarks: ``(T, 68, 2)`` dlib landmarks at 25 fps.
        audio: ``(samples,)`` 16 kHz at int16 scale.

    Returns:
        :func:`~eval.metrics.functional.lse.lse_from_distances`' dict (``lse_d``,
        ``lse_c``, ``offset``, ``mean_dist`` ``(2 vshift + 1,)``) plus ``rho`` ``(2 vshift + 1,)``.
    """
    from eval.metrics.functional.lse import lse_from_curve

    lip = lip_features(landmarks)
    speech = audio_features(audio, len(lip))
    rho = lag_correlations(lip, speech, vshift, lam)
    distance = np.sqrt(2.0 * (1.0 - rho))
    result = lse_from_curve(distance, vshift)
    result["rho"] = rho
    return result
