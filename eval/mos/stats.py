"""MOS statistics: a 95% CI that accounts for raters and clips, paired tests, Holm correction.

Model (one system, one criterion; ``y[r, c]`` = rater ``r``'s score of clip ``c``)::

    y[r, c] = mu + a[r] + b[c] + e[r, c],   a ~ N(0, s_r2), b ~ N(0, s_c2), e ~ N(0, s_e2)

crossed random effects for raters and clips. The MOS is the mean of the observed
scores; its variance is ``s_r2 * sum(n_r^2)/N^2 + s_c2 * sum(n_c^2)/N^2 + s_e2/N``
(``n_r``: scores per rater, ``n_c``: per clip). The variance components come from
closed-form method-of-moments (U-statistic) estimators that hold for unbalanced crossed
designs (Gao & Owen 2017; for a complete design they equal the two-way ANOVA
estimators, which is what crowdMOS, Ribeiro et al. 2011, uses). The interval is
Student-t with Satterthwaite degrees of freedom. Chosen over statsmodels' MixedLM
because it is closed form: 400 simulated studies run in well under a second each.

The naive interval (:func:`naive_ci`) treats every score as independent; it is kept for
comparison (it covers the true mean far less often than 95%: see tests/eval/mos).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np

SCALE = (1, 5)
LEVEL = 0.95
METHOD = ("crossed random effects (raters x clips), method-of-moments variance components, "
          "Student t with Satterthwaite df")


def _t_quantile(level: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf((1.0 + level) / 2.0, df))


def naive_ci(ratings: Sequence[float], level: float = LEVEL) -> tuple[float, Optional[float]]:
    """``(mean, half-width)`` of the pooled Student-t CI, ``t_{n-1} * s / sqrt(n)`` (ratings as if independent).

    The half-width is ``None`` for fewer than two ratings. Raises ``ValueError`` on an
    empty input or a rating outside 1..5.
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no ratings")
    if not np.all(np.isfinite(x)) or np.any((x < SCALE[0]) | (x > SCALE[1])):
        raise ValueError(f"ratings must lie in {SCALE[0]}..{SCALE[1]}")
    mean = float(x.mean())
    if x.size < 2:
        return mean, None
    return mean, _t_quantile(level, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)


mos_ci = naive_ci  # the previous name


@dataclasses.dataclass
class CrossedEstimate:
    """Mean of a raters x clips table with its crossed-random-effects standard error."""

    mean: float
    n: int
    n_raters: int
    n_clips: int
    var_rater: float
    var_clip: float
    var_resid: float
    se: Optional[float]
    df: Optional[float]
    reason: Optional[str] = None  # why se is None

    def ci(self, level: float = LEVEL) -> Optional[tuple[float, float]]:
        if self.se is None:
            return None
        half = _t_quantile(level, self.df) * self.se if self.se > 0 else 0.0
        return self.mean - half, self.mean + half


def crossed_mean(table: np.ndarray) -> CrossedEstimate:
    """Mean and standard error of the scores in ``table`` under crossed rater and clip effects.

    table: ``(raters, clips)`` float, ``NaN`` where a rater did not score a clip (at most one
    score per cell). Rows / columns without any score are ignored.
    """
    y = np.asarray(table, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"table must be (raters, clips), got shape {y.shape}")
    ok = np.isfinite(y)
    y = y[ok.any(1)][:, ok.any(0)]
    ok = np.isfinite(y)
    n = int(ok.sum())
    if n == 0:
        raise ValueError("no scores")
    n_r = ok.sum(1).astype(np.float64)
    n_c = ok.sum(0).astype(np.float64)
    R, C = len(n_r), len(n_c)
    z = np.where(ok, y, 0.0)
    mean = float(z.sum() / n)
    if R < 2 or C < 2:
        return CrossedEstimate(mean, n, R, C, math.nan, math.nan, math.nan, None, None,
                               f"a crossed CI needs >= 2 raters and >= 2 clips (have {R} x {C})")
    # U statistics: half the summed squared differences over pairs sharing a rater / a clip / any pair
    row_mean = z.sum(1) / n_r
    col_mean = z.sum(0) / n_c
    ss_row = (np.where(ok, y - row_mean[:, None], 0.0) ** 2).sum(1)
    ss_col = (np.where(ok, y - col_mean[None, :], 0.0) ** 2).sum(0)
    u_r = float((n_r * ss_row).sum())
    u_c = float((n_c * ss_col).sum())
    u_all = float(n * (np.where(ok, y - mean, 0.0) ** 2).sum())
    sr2, sc2 = float((n_r ** 2).sum()), float((n_c ** 2).sum())
    # E[u_r] = (s_c2 + s_e2)(sr2 - N); E[u_c] = (s_r2 + s_e2)(sc2 - N);
    # E[u_all] = s_r2 (N^2 - sr2) + s_c2 (N^2 - sc2) + s_e2 (N^2 - N)
    A = np.array([[0.0, sr2 - n, sr2 - n],
                  [sc2 - n, 0.0, sc2 - n],
                  [n * n - sr2, n * n - sc2, n * n - n]])
    rhs = np.array([u_r, u_c, u_all])
    try:
        var_r, var_c, var_e = np.linalg.solve(A, rhs)
    except np.linalg.LinAlgError:
        return CrossedEstimate(mean, n, R, C, math.nan, math.nan, math.nan, None, None,
                               "raters and clips are confounded (each rater scored a single clip or vice versa)")
    var_e = max(float(var_e), 0.0)
    var_r = max(float(var_r), 0.0)
    var_c = max(float(var_c), 0.0)
    k_r, k_c = sr2 / (n * n), sc2 / (n * n)
    v_r, v_c, v_e = var_r * k_r, var_c * k_c, var_e / n
    var_mean = v_r + v_c + v_e
    # Satterthwaite: mean squares of the equivalent balanced design (N/R clips per rater, N/C raters per clip)
    ms_e = var_e
    ms_r = var_e + (n / R) * var_r
    ms_c = var_e + (n / C) * var_c
    df_e = max(n - R - C + 1, 1)
    denom = ms_r ** 2 / (R - 1) + ms_c ** 2 / (C - 1) + ms_e ** 2 / df_e
    combo = ms_r + ms_c - ms_e
    df = float(combo ** 2 / denom) if denom > 0 and combo > 0 else float(n - 1)
    df = min(max(df, 1.0), float(n - 1))
    return CrossedEstimate(mean, n, R, C, var_r, var_c, var_e, math.sqrt(max(var_mean, 0.0)), df)


@dataclasses.dataclass
class Comparison:
    """``a - b`` on the (rater, clip) cells both systems were scored in."""

    a: str
    b: str
    criterion: str
    diff: float
    n_pairs: int
    se: Optional[float]
    df: Optional[float]
    p: Optional[float]
    p_holm: Optional[float] = None
    reason: Optional[str] = None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def paired_comparison(a_table: np.ndarray, b_table: np.ndarray, a: str, b: str, criterion: str) -> Comparison:
    """Paired test of ``mean(a) - mean(b)``: the crossed estimator applied to per-cell differences.

    a_table, b_table: ``(raters, clips)`` with ``NaN`` for missing, the same raters and clips.
    """
    d = np.asarray(a_table, np.float64) - np.asarray(b_table, np.float64)
    if not np.isfinite(d).any():
        return Comparison(a, b, criterion, math.nan, 0, None, None, None,
                          reason="no (rater, clip) pair scored for both")
    est = crossed_mean(d)
    if est.se is None:
        return Comparison(a, b, criterion, est.mean, est.n, None, None, None, reason=est.reason)
    from scipy import stats

    if est.se == 0:
        p = 1.0 if est.mean == 0 else 0.0
    else:
        p = float(2 * stats.t.sf(abs(est.mean) / est.se, est.df))
    return Comparison(a, b, criterion, est.mean, est.n, est.se, est.df, p)


def holm(pvalues: Sequence[Optional[float]]) -> list[Optional[float]]:
    """Holm-Bonferroni adjusted p-values (``None`` entries are skipped and stay ``None``)."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    out: list[Optional[float]] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: pvalues[i])):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out
