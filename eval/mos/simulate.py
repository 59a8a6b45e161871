"""Simulated MOS studies from a known model, to validate screening and the confidence intervals.

Each careful rater ``r`` scores clip ``c`` of system ``s`` on criterion ``k`` as::

    latent = 3 + scale[r] * (mu[s, k] + clip[c, k] + clip_sys[c, s, k] - 3) + bias[r] + noise
    score  = latent rounded to the nearest integer, clipped to 1..5

with ``scale ~ LogNormal(0, sd_scale)``, the rest normal. A share of raters is careless:
uniform random scores everywhere, gold and trap clips included. The true system mean is
the expected score of a careful rater on a random clip (:func:`true_means`, exact up to
quadrature: given ``scale`` the latent score is normal).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from eval.mos.screening import Rules, screen
from eval.mos.stats import crossed_mean, naive_ci

CRITERIA = ("lip_sync", "realness", "head_motion")


@dataclasses.dataclass(frozen=True)
class Model:
    """Parameters of the generating model; ``mu`` is ``(systems, criteria)`` on the latent scale."""

    mu: tuple = ((2.4, 2.2, 2.0), (3.0, 3.1, 3.2), (2.8, 3.3, 2.9), (4.0, 3.8, 3.9))
    sd_bias: float = 0.35
    sd_scale: float = 0.2
    sd_clip: float = 0.3
    sd_clip_system: float = 0.25
    sd_noise: float = 0.6
    careless: float = 0.1
    gold_lip: float = 1.2  # latent lip sync of the clip with audio shifted by 400 ms

    @property
    def n_systems(self) -> int:
        return len(self.mu)


@dataclasses.dataclass
class Study:
    scores: np.ndarray  # (raters, clips, systems, criteria)
    gold_lip: np.ndarray  # (raters,)
    trap_ok: np.ndarray  # (raters,)
    careless: np.ndarray  # (raters,) bool: ground truth


def _round(latent: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(latent + 0.5), 1, 5)


def simulate_study(model: Model, raters: int, clips: int, rng: np.random.Generator) -> Study:
    """One study: every rater scores every clip of every system (the paper's design)."""
    S, K = model.n_systems, len(CRITERIA)
    mu = np.asarray(model.mu, np.float64)
    scale = np.exp(rng.normal(0, model.sd_scale, raters))
    bias = rng.normal(0, model.sd_bias, raters)
    clip = rng.normal(0, model.sd_clip, (clips, 1, K))
    clip_sys = rng.normal(0, model.sd_clip_system, (clips, S, K))
    noise = rng.normal(0, model.sd_noise, (raters, clips, S, K))
    latent = 3 + scale[:, None, None, None] * (mu[None, None] + clip[None] + clip_sys[None] - 3) \
        + bias[:, None, None, None] + noise
    scores = _round(latent)
    careless = np.zeros(raters, bool)
    careless[rng.choice(raters, int(round(model.careless * raters)), replace=False)] = True
    scores[careless] = rng.integers(1, 6, (int(careless.sum()), clips, S, K))
    gold = _round(3 + scale * (model.gold_lip - 3) + bias + rng.normal(0, model.sd_noise, raters))
    gold[careless] = rng.integers(1, 6, int(careless.sum()))
    asked = rng.integers(2, 5, raters)
    trap_ok = np.ones(raters)
    trap_ok[careless] = (rng.integers(1, 6, (int(careless.sum()), 3)) == asked[careless, None]).all(1)
    return Study(scores, gold, trap_ok, careless)


def true_means(model: Model, nodes: int = 64) -> np.ndarray:
    """``(systems, criteria)`` expected score of a careful rater (Gauss-Hermite over the log scale)."""
    from scipy import stats

    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    scale = np.exp(model.sd_scale * x)  # (nodes,)
    mu = np.asarray(model.mu, np.float64)[..., None]  # (S, K, 1)
    mean = 3 + scale * (mu - 3)
    sd = np.sqrt(scale ** 2 * (model.sd_clip ** 2 + model.sd_clip_system ** 2) + model.sd_bias ** 2
                 + model.sd_noise ** 2)
    expected = 1 + sum(stats.norm.sf((t - mean) / sd) for t in (1.5, 2.5, 3.5, 4.5))
    return (expected * w).sum(-1)


def screen_study(study: Study, rules: Rules = Rules()) -> list[list[str]]:
    R, C, S, K = study.scores.shape
    flat = study.scores.reshape(R, C * S, K)
    return screen(flat, study.gold_lip, study.trap_ok, np.ones(R), np.full(R, C * S), rules)


def coverage(model: Model = Model(), studies: int = 400, raters: int = 40, clips: int = 20, seed: int = 0,
             rules: Optional[Rules] = Rules()) -> dict:
    """Share of ``studies`` whose 95% CI contains the true system mean: crossed vs naive, after screening.

    Returns ``{"crossed", "naive"}`` coverage over every (study, system, criterion), per-cell
    coverage ``(systems, criteria)`` arrays, and screening counts.
    """
    rng = np.random.default_rng(seed)
    truth = true_means(model)
    S, K = truth.shape
    hit_x = np.zeros((studies, S, K), bool)
    hit_n = np.zeros((studies, S, K), bool)
    removed_careless = removed_careful = n_careless = n_careful = 0
    for i in range(studies):
        st = simulate_study(model, raters, clips, rng)
        keep = np.ones(raters, bool)
        if rules is not None:
            keep = np.array([not r for r in screen_study(st, rules)])
        removed_careless += int((~keep & st.careless).sum())
        removed_careful += int((~keep & ~st.careless).sum())
        n_careless += int(st.careless.sum())
        n_careful += int((~st.careless).sum())
        y = st.scores[keep]
        for s in range(S):
            for k in range(K):
                est = crossed_mean(y[:, :, s, k])
                lo, hi = est.ci()
                hit_x[i, s, k] = lo <= truth[s, k] <= hi
                m, half = naive_ci(y[:, :, s, k].ravel())
                hit_n[i, s, k] = m - half <= truth[s, k] <= m + half
    return {"crossed": float(hit_x.mean()), "naive": float(hit_n.mean()),
            "crossed_cells": hit_x.mean(0), "naive_cells": hit_n.mean(0), "truth": truth,
            "careless_removed": removed_careless, "careless": n_careless,
            "careful_removed": removed_careful, "careful": n_careful}
