"""The harness's aggregation used outside a table run (benches): score in-memory samples, aggregate,
build results.json, write the records; and the one-off conversion of the bench's old records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval import results as res
from eval.metrics.base import BackendSpec, ItemError, Metric, MetricSpec
from eval.metrics.sample import Sample
from eval.run.aggregate import Aggregate, aggregate_metric, results_record, write_records
from eval.run.plugins import MetricPlan
from eval.run.score import score_samples


class TextLength(Metric):
    """Item-level: characters of the text (an item whose text is "fail" raises ItemError)."""

    spec = MetricSpec(name="textlen", version="1", level="item", needs=("text",), higher_is_better=True,
                      backends=(BackendSpec("python", paper=False),), outputs=("textlen",))

    def reset(self) -> None:
        self.values: dict[str, float] = {}

    def update(self, item):
        if item.text == "fail":
            raise ItemError("refused on purpose", code="fake")
        self.values[item.id] = float(len(item.text))
        return {"textlen": float(len(item.text))}

    def compute(self):
        return {"textlen": float(np.mean(list(self.values.values()))), "n_items": float(len(self.values))}

    def state(self) -> dict:
        return {"values": dict(self.values)}

    def merge(self, other_state: dict) -> None:
        self.values.update(other_state["values"])


def _plan() -> MetricPlan:
    return MetricPlan("textlen", "textlen", TextLength, TextLength.spec.backends[0])


def _samples():
    texts = {"a": "one", "b": "three", "c": "fail", "d": "seventeen chars!!"}
    return [Sample(i, text=t) for i, t in texts.items()]


def test_scored_samples_aggregate_like_a_run(tmp_path):
    plan = _plan()
    metric, part = score_samples(plan, _samples(), item_extra=lambda m, s: {"doubled": 2.0 * len(s.text)})
    assert part["unavailable"] is None
    assert part["payload"]["values"]["b"] == {"textlen": 5.0, "doubled": 10.0}
    assert part["payload"]["errors"] == {"c": {"error": "fake", "reason": "refused on purpose"}}
    agg = Aggregate()
    agg.scores["row"], agg.details["row"] = {}, {}
    aggregate_metric(agg, "row", plan, metric, [part], 4, seed=0)
    cell = agg.scores["row"]["textlen"]
    assert cell["value"] == pytest.approx((3 + 5 + 17) / 3)
    assert (cell["n"], cell["n_total"], cell["n_failed"]) == (3, 4, 1)
    assert cell["ci95"] is not None and cell["ci95"][0] <= cell["value"] <= cell["ci95"][1]
    assert agg.details["row"]["textlen"]["extra_outputs"] == {"n_items": 3.0}  # beside the declared outputs
    assert agg.failures == [("row", "textlen", 1, 4, "refused on purpose [1x]")]
    results = results_record(run_id="r", table="bench", split={"name": "s"}, config={}, seed=0, provenance={},
                             timing={}, systems={}, skipped={}, plans=[plan], agg=agg)
    write_records(tmp_path, agg.item_lines, results)
    loaded = res.load_results(tmp_path)
    assert loaded["schema"] == res.SCHEMA_VERSION and loaded["scores"]["row"]["textlen"] == cell
    lines = [json.loads(x) for x in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert {"system": "row", "id": "c", "metric": "textlen", "error": "fake", "reason": "refused on purpose"} in lines
    assert {"system": "row", "id": "d", "metric": "textlen", "output": "doubled", "value": 34.0} in lines


def test_an_unbuildable_metric_is_missing_with_its_reason():
    class Broken(TextLength):
        def reset(self) -> None:
            raise RuntimeError("no weights here")

    plan = MetricPlan("textlen", "textlen", Broken, TextLength.spec.backends[0])
    metric, part = score_samples(plan, _samples())
    assert metric is None and part["unavailable"] == "cannot create metric: RuntimeError: no weights here"
    agg = Aggregate()
    agg.scores["row"], agg.details["row"] = {}, {}
    aggregate_metric(agg, "row", plan, metric, [part], 4, seed=0)
    assert agg.scores["row"]["textlen"]["value"] is None
    assert agg.scores["row"]["textlen"]["reason"] == part["unavailable"]


def test_old_bench_records_convert_with_their_values_unchanged():
    from scripts.convert_synth_eval_records import convert  # python -m pytest puts the repository root on sys.path
    per_item = {"x/1": {"idsim": 0.5, "frames_scored": 10.0}, "x/2": {"idsim": 0.7, "frames_scored": 12.0}}
    old = {"checkpoint": "c.pt", "checkpoint_sha256": "ab" * 32, "corpus": "/c", "unseen_speakers": ["x"],
           "items": ["x/1", "x/2"], "steps": 10, "seed": 0,
           "ttsf": {"idsim": {"metric": "idsim", "backend": "sface", "value": {"idsim": 0.6, "n_items": 2.0},
                              "items": per_item, "failed": {}}}}
    results, lines = convert(old, "demo", "old.json")
    cell = results["scores"]["ttsf"]["idsim"]
    assert cell["value"] == 0.6 and (cell["n"], cell["n_failed"]) == (2, 0) and cell["ci95"] is not None
    assert results["schema"] == res.SCHEMA_VERSION and results["config"]["converted_from"] == "old.json"
    assert {"system": "ttsf", "id": "x/2", "metric": "idsim", "output": "frames_scored", "value": 12.0} in lines
