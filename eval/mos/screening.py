"""Rater screening applied at scoring time, with the reasons recorded per rater.

Rules follow ITU-T P.808 crowdsourcing practice (gold and trapping questions, minimum
listening/viewing, rating patterns; the open-source P.808 implementation of Naderi &
Cutler 2020) and crowdMOS (Ribeiro et al. 2011: reject workers whose scores correlate
below 0.25 with the consensus):

1. ``incomplete``: fewer rated study trials than the design assigned.
2. ``gold``: the clip whose audio was shifted by 400 ms got a lip-sync score above ``gold_max_lip``.
3. ``trap``: the clip whose on-screen text asks for a given score was not given that score on all three questions.
4. ``viewing``: a study trial was not played through (played time < ``min_view_fraction`` x duration).
5. ``no_variance``: the same score for every video and question (straight-lining).
6. ``low_correlation``: Pearson correlation with the leave-one-out consensus of the raters that passed
   rules 1-5 below ``min_correlation``.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass(frozen=True)
class Rules:
    gold_max_lip: int = 2
    min_view_fraction: float = 0.9
    min_correlation: float = 0.25

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def screen(
    scores: np.ndarray,
    gold_lip: np.ndarray,
    trap_ok: np.ndarray,
    viewed_ok: np.ndarray,
    assigned: np.ndarray,
    rules: Rules = Rules(),
) -> list[list[str]]:
    """Reasons to reject each rater (an empty list keeps the rater).

    scores: ``(raters, videos, criteria)`` float, ``NaN`` where not rated (study trials only).
    gold_lip: ``(raters,)`` lip-sync score of the shifted-audio clip (``NaN``: not rated / none in the design).
    trap_ok: ``(raters,)`` float: 1 the trap clip got the asked score, 0 it did not, ``NaN`` no trap rated.
    viewed_ok: ``(raters,)`` fraction of rated study trials played through.
    assigned: ``(raters,)`` number of study trials the design assigned to each rater.
    """
    y = np.asarray(scores, np.float64)
    trap_ok = np.asarray(trap_ok, np.float64)
    n_raters = y.shape[0]
    reasons: list[list[str]] = [[] for _ in range(n_raters)]
    rated = np.isfinite(y).all(2).sum(1)
    for r in range(n_raters):
        if rated[r] < assigned[r]:
            reasons[r].append(f"incomplete: {int(rated[r])}/{int(assigned[r])} study trials rated")
        g = gold_lip[r]
        if np.isfinite(g) and g > rules.gold_max_lip:
            reasons[r].append(f"gold: lip sync {int(g)} for the clip with audio shifted by 400 ms "
                              f"(must be <= {rules.gold_max_lip})")
        elif not np.isfinite(g) and np.isnan(g) and _has(gold_lip):
            reasons[r].append("gold: the shifted-audio clip was not rated")
        if np.isfinite(trap_ok[r]) and trap_ok[r] < 0.5:
            reasons[r].append("trap: the on-screen instruction was not followed")
        if viewed_ok[r] < 1.0:
            reasons[r].append(f"viewing: {100 * (1 - viewed_ok[r]):.0f}% of trials not played through "
                              f"(>= {rules.min_view_fraction:.0%} of the clip)")
        flat = y[r][np.isfinite(y[r])]
        if flat.size and np.all(flat == flat[0]):
            reasons[r].append(f"no_variance: every score is {int(flat[0])}")
    passed = np.array([not rs for rs in reasons])
    corr = consensus_correlation(y, passed)
    for r in range(n_raters):
        if reasons[r] and any(x.startswith("no_variance") for x in reasons[r]):
            continue
        c = corr[r]
        if c is None or c < rules.min_correlation:
            reasons[r].append("low_correlation: " + (
                "undefined (too few shared videos)" if c is None
                else f"r = {c:.2f} with the consensus (< {rules.min_correlation})"))
    return reasons


def _has(gold: np.ndarray) -> bool:
    return bool(np.isfinite(np.asarray(gold, np.float64)).any())


def consensus_correlation(scores: np.ndarray, pool: np.ndarray) -> list[Optional[float]]:
    """Pearson correlation of each rater's scores with the mean of the other raters in ``pool``.

    scores: ``(raters, videos, criteria)`` with ``NaN`` for missing; pool: ``(raters,)`` bool.
    """
    y = np.asarray(scores, np.float64)
    ok = np.isfinite(y)
    in_pool = ok & np.asarray(pool, bool)[:, None, None]
    total = np.where(in_pool, y, 0.0).sum(0)
    count = in_pool.sum(0)
    out: list[Optional[float]] = []
    for r in range(y.shape[0]):
        own = in_pool[r]
        s = total - np.where(own, y[r], 0.0)
        c = count - own
        cons = np.where(c > 0, s / np.maximum(c, 1), np.nan)
        m = ok[r] & np.isfinite(cons)
        a, b = y[r][m], cons[m]
        if a.size < 3 or a.std() == 0 or b.std() == 0:
            out.append(None)
            continue
        out.append(float(np.corrcoef(a, b)[0, 1]))
    return out
