"""Late fusion of lip-sync distance curves: per-lag z-scores averaged, SyncNet semantics.

Two offline sync measures look at different things -- a SyncNet on face crops (appearance)
and per-clip canonical correlation of landmark lip shapes with MFCCs (geometry) -- and
their errors fall on different clips. Each backend gives a distance per lag
``-vshift .. +vshift`` (``(2 vshift + 1,)``, lower = better match); the curves are on
different scales, so each is standardised over its own lags (z-score: minus its mean,
over its standard deviation) and the standardised curves are averaged with equal weights.
Nothing is fitted: no weights, no thresholds.

The two need not agree on where "in sync" is: the SyncNet learnt the synthetic corpus's
timing (generator 2.1: the lips one frame ahead of the sound, offset 0), while the
untrained landmark correlation measures the lead it sees (about -1 on those clips). On
synthetic clips the fused dip thus spans lags 0 and -1 (the SyncNet's is deeper, so the
offset stays 0); on real clips each measures the real clip's timing.

Requirements are both backends': ``vshift + 16`` frames (31 at ``vshift`` 15) for the
landmark curve; the metric's ``windows`` output is the landmark frame count.

The fused curve goes through :func:`eval.metrics.functional.lse.lse_from_distances`
unchanged: ``offset`` = ``vshift - argmin`` (syncnet_python's sign), ``LSE-D`` = the fused
curve's minimum (in standard deviations of the lag curves, so negative: lower = better),
``LSE-C`` = median - min (in standard deviations; higher = more confident). Neither is on
SyncNet's scale.
"""

from __future__ import annotations

import numpy as np

from eval.metrics.functional.lse import lse_from_curve

#: A lag curve whose standard deviation is below this fraction of its largest magnitude (or
#: below this, for curves within +-1) carries no offset information (flat: rounding only).
FLAT_STD = 1e-9


def standardise(curve: np.ndarray) -> np.ndarray:
    """``(curve - mean) / std`` over the lags; a flat curve becomes all zeros."""
    c = np.asarray(curve, dtype=np.float64).ravel()
    std = c.std()
    flat = std < FLAT_STD * max(1.0, float(np.abs(c).max(initial=0.0)))
    return np.zeros_like(c) if flat else (c - c.mean()) / std


def fuse_curves(curves) -> np.ndarray:
    """Equal-weight mean of the standardised distance curves, each ``(2 vshift + 1,)``."""
    curves = [np.asarray(c, dtype=np.float64).ravel() for c in curves]
    if not curves or len({len(c) for c in curves}) != 1:
        raise ValueError(f"need >= 1 curves of one length, got lengths {[len(c) for c in curves]}")
    return np.mean([standardise(c) for c in curves], axis=0)


def fused_lse(curves, vshift: int = 15) -> dict:
    """``lse_from_curve`` of :func:`fuse_curves`; its ``mean_dist`` is the fused curve."""
    fused = fuse_curves(curves)
    if len(fused) != 2 * vshift + 1:
        raise ValueError(f"curves have {len(fused)} lags, vshift {vshift} needs {2 * vshift + 1}")
    return lse_from_curve(fused, vshift)
