"""MOS statistics: the crossed-random-effects CI against simulation, screening, paired tests, Holm."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from eval.mos.simulate import Model, coverage, screen_study, simulate_study
from eval.mos.stats import crossed_mean, holm, naive_ci


def test_naive_ci_is_the_t_interval():
    x = [4, 5, 3, 4, 4, 5, 2, 4]
    mean, half = naive_ci(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert mean == pytest.approx(np.mean(x)) and half == pytest.approx((hi - lo) / 2)
    with pytest.raises(ValueError):
        naive_ci([0, 3])


def test_crossed_estimator_matches_two_way_anova_on_a_complete_table():
    rng = np.random.default_rng(0)
    y = rng.normal(3, 1, (12, 7)) + rng.normal(0, 0.5, (12, 1)) + rng.normal(0, 0.4, (1, 7))
    est = crossed_mean(y)
    R, C = y.shape
    g = y.mean()
    ms_r = C * ((y.mean(1) - g) ** 2).sum() / (R - 1)
    ms_c = R * ((y.mean(0) - g) ** 2).sum() / (C - 1)
    ms_e = ((y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + g) ** 2).sum() / ((R - 1) * (C - 1))
    assert est.var_resid == pytest.approx(ms_e)
    assert est.var_rater == pytest.approx((ms_r - ms_e) / C)
    assert est.var_clip == pytest.approx((ms_c - ms_e) / R)
    assert est.se ** 2 == pytest.approx((ms_r + ms_c - ms_e) / (R * C))
    # missing cells are allowed (unbalanced designs)
    y[0, :3] = np.nan
    assert crossed_mean(y).n == R * C - 3 and crossed_mean(y).se > 0


def test_holm():
    assert holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None], nan_ok=True)


def test_screening_removes_the_careless_raters():
    rng = np.random.default_rng(1)
    for _ in range(20):
        st = simulate_study(Model(), 40, 20, rng)
        kept = np.array([not r for r in screen_study(st)])
        assert not (kept & st.careless).any()
        assert (kept & ~st.careless).sum() >= 0.8 * (~st.careless).sum()


def test_crossed_ci_covers_the_true_mean_in_95_percent_of_studies_and_the_naive_does_not():
    """400 studies of the paper's size (40 raters x 20 clips x 4 systems, 3 criteria), 10% careless raters."""
    t0 = time.time()
    r = coverage(Model(), studies=400, raters=40, clips=20, seed=0)
    took = time.time() - t0
    print(f"coverage over 400 studies x 4 systems x 3 criteria: crossed {r['crossed']:.3f}, naive {r['naive']:.3f}; "
          f"careless removed {r['careless_removed']}/{r['careless']}, careful removed "
          f"{r['careful_removed']}/{r['careful']}; {took:.1f} s")
    assert 0.93 <= r["crossed"] <= 0.97
    assert r["naive"] < 0.85
    assert r["careless_removed"] == r["careless"]
    assert (r["crossed_cells"] >= 0.90).all()
