"""Bootstrap CIs, summaries, score cells and provenance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval import results as res


def test_bootstrap_ci_is_deterministic_and_matches_the_normal_approximation():
    x = np.random.default_rng(1).normal(10.0, 2.0, size=400)
    lo, hi = res.bootstrap_ci(x, seed=3)
    assert (lo, hi) == res.bootstrap_ci(x, seed=3)
    assert lo < x.mean() < hi
    half = 1.96 * x.std(ddof=1) / math.sqrt(x.size)  # ≈ 0.196
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.15)


def test_bootstrap_needs_two_values_and_constant_values_give_a_point():
    assert res.bootstrap_ci([1.0]) is None
    assert res.bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_summarise_ignores_missing_and_nonfinite():
    s = res.summarise([1.0, None, 3.0, float("nan")])
    assert s.n == 2 and s.mean == 2.0 and s.std == pytest.approx(math.sqrt(2))


def test_score_cell_never_turns_missing_into_a_number():
    cell = res.score_cell(float("inf"), None, "m", 3, 3, 0, None, None)
    assert cell["value"] is None and "non-finite" in cell["reason"]
    with pytest.raises(ValueError):
        res.score_cell(None, None, "m", 0, 3, 3, None, None)


def test_provenance_names_versions_and_commit():
    p = res.provenance("cpu")
    assert p["packages"]["numpy"] == np.__version__ and p["device"] == "cpu"
    assert set(p) >= {"git_commit", "git_dirty", "python", "platform"}
    assert res.package_versions(["surely-not-installed-pkg"]) == {"surely-not-installed-pkg": None}


def test_ratio_bootstrap_ci_brackets_the_corpus_ratio_and_is_deterministic():
    import numpy as np

    from eval.results import ratio_bootstrap_ci

    rng = np.random.default_rng(3)
    den = rng.integers(5, 30, size=40).astype(float)
    num = np.round(den * rng.uniform(0.0, 0.4, size=40))
    value = 100 * num.sum() / den.sum()
    lo, hi = ratio_bootstrap_ci(num, den, seed=1, scale=100.0)
    assert lo < value < hi and hi - lo < 20
    assert ratio_bootstrap_ci(num, den, seed=1, scale=100.0) == (lo, hi)
    # the CI of the ratio of sums differs from the CI of the mean of per-item ratios
    from eval.results import bootstrap_ci

    assert bootstrap_ci(100 * num / den, seed=1) != (lo, hi)
    assert ratio_bootstrap_ci([1.0], [2.0]) is None
    assert ratio_bootstrap_ci([0.0, 0.0], [0.0, 0.0]) is None
