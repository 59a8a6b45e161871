"""The measuring script's pure helpers (the models themselves run in ``python -m eval.synth.measure``)."""

from __future__ import annotations

import numpy as np

from eval.synth.measure import _pairs, _stats


def test_pairs_split_same_and_different_groups():
    e = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.6, 0.8])]
    emb = [("a", "c1", e[0]), ("a", "c2", e[2]), ("b", "c3", e[1]), ("a", "c1", e[1])]
    same, diff = _pairs(emb)
    # same group, different clips: (c1,c2) twice (two frames of c1); frames of the same clip are not paired
    assert sorted(same) == [0.6, 0.8]
    assert sorted(diff) == [0.0, 0.8, 1.0]


def test_stats_reports_missing_instead_of_zero():
    assert _stats([]) == {"n": 0, "mean": None, "min": None, "max": None, "reason": "no pairs"}
    s = _stats([0.5, 1.0])
    assert s["n"] == 2 and s["mean"] == 0.75 and s["min"] == 0.5 and s["max"] == 1.0
