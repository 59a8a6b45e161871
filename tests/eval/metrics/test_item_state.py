"""Every per-item metric keeps its state through :class:`eval.metrics.item_mean.ItemMetric`:
the same duplicate-id check, exact shard merge, count key and empty-corpus behaviour.

The metrics' own ``score`` is replaced by a deterministic function of the item id, so these
tests need no weights or media and exercise exactly the state each metric class uses."""

import math

import numpy as np
import pytest

from eval.metrics import create
from eval.metrics.base import ItemError
from eval.metrics.item_mean import COUNT_KEY, ItemMetric
from eval.metrics.sample import Sample
from ttsf.weights.errors import MissingWeights

#: (metric, backend whose constructor needs no network file) -> the per-item values it keeps
PER_ITEM = {("mcd", None): ("mcd",), ("f0_rmse", None): ("f0_rmse",), ("csim", "resemblyzer"): ("csim",),
            ("idsim", "sface"): ("idsim",), ("diversity", "whenet"): ("diversity",),
            ("lse", "syncnet_offline"): ("lse_c", "lse_d")}


def _fake_score(names):
    def score(item):
        k = int(item.id.split("-")[1])
        return {**{name: 0.5 * k + j for j, name in enumerate(names)}, "frames_scored": 10.0}
    return score


def _metric(name, backend):
    try:
        metric = create(name, backend)
    except MissingWeights as exc:  # csim's constructor locates its weights file
        pytest.skip(f"{name}/{backend}: {exc}")
    metric.score = _fake_score(PER_ITEM[(name, backend)])
    return metric


@pytest.fixture(params=sorted(PER_ITEM), ids=lambda p: p[0])
def case(request):
    return request.param


def test_every_per_item_metric_is_an_item_metric_with_its_declared_state(case):
    metric = _metric(*case)
    assert isinstance(metric, ItemMetric)
    assert metric.state_names == PER_ITEM[case]
    for method in ("update", "compute", "state", "merge", "reset"):  # no metric keeps state its own way
        assert getattr(type(metric), method) is getattr(ItemMetric, method), (case, method)


def test_an_item_scored_twice_is_refused(case):
    metric = _metric(*case)
    metric.update(Sample("item-1"))
    with pytest.raises(ValueError, match="already scored"):
        metric.update(Sample("item-1"))


def test_shards_merge_to_the_single_pass_and_refuse_overlap(case):
    single, a, b = _metric(*case), _metric(*case), _metric(*case)
    for k in range(5):
        single.update(Sample(f"item-{k}"))
        (a if k % 2 else b).update(Sample(f"item-{k}"))
    merged = _metric(*case)
    merged.merge(b.state())
    merged.merge(a.state())
    assert merged.compute() == single.compute()
    names = PER_ITEM[case]
    expected = {**{n: np.mean([0.5 * k + j for k in range(5)]) for j, n in enumerate(names)},
                **{f"{n}_std": np.std([0.5 * k for k in range(5)]) for n in names}, COUNT_KEY: 5.0}
    assert single.compute() == pytest.approx(expected)
    with pytest.raises(ValueError, match="both shards"):
        merged.merge(a.state())


def test_the_count_key_is_the_same_for_every_metric(case):
    metric = _metric(*case)
    metric.update(Sample("item-3"))
    assert metric.compute()[COUNT_KEY] == 1.0 and "n" not in metric.compute()


def test_an_empty_corpus_is_missing_with_a_reason_never_zero(case):
    metric = _metric(*case)
    with pytest.raises(ItemError) as info:
        metric.compute()
    assert info.value.code == "empty" and "no item was scored" in info.value.reason


def test_a_non_finite_declared_value_is_refused(case):
    metric = _metric(*case)
    name = PER_ITEM[case][-1]
    metric.score = lambda item: {n: (math.nan if n == name else 1.0) for n in PER_ITEM[case]}
    with pytest.raises(RuntimeError, match="non-finite"):
        metric.update(Sample("item-0"))
    assert not metric.state()["ids"]


def test_the_empty_corpus_reaches_the_single_metric_cli_as_a_missing_value(monkeypatch):
    """``eval.metrics.cli.score`` (one metric on files) reports the reason, and no number."""
    from eval.metrics.cli import score
    from eval.metrics.diversity import Diversity

    def no_face(self, item):
        raise ItemError("no face", code="no_face")

    monkeypatch.setattr(Diversity, "score", no_face)
    result = score("diversity", "whenet", [Sample("item-0")])
    assert result["missing"] == {"diversity": "no item was scored by diversity"}
    assert result["values"] == {"diversity": None} and result["n_failed"] == 1
