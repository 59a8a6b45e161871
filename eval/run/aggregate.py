"""Aggregation, intervals, the results.json schema and the run's record files.

Rank 0 of ``eval.run`` merges the ranks' per-metric parts here (:func:`aggregate_metric`),
attaches each value's 95% interval (:func:`interval_cell`), builds results.json
(:func:`results_record`, schema: :mod:`eval.results`) and writes items.jsonl + results.json
(:func:`write_records`). Benches that score outputs outside a table run (``bench.ttsf_synth_eval``)
record their numbers through the same functions, so every recorded number has one schema.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import logging
import time
from pathlib import Path
from typing import Optional

from eval import results as res
from eval.cache import canonical_json
from eval.run.plugins import MetricPlan, weights_hashes
from ttsf.atomic import atomic_write_json, atomic_write_text

log = logging.getLogger(__name__)


def _top_reason(errors: dict) -> str:
    counts = collections.Counter(e["reason"] for e in errors.values())
    reason, n = counts.most_common(1)[0]
    more = f" (+{len(counts) - 1} other reasons)" if len(counts) > 1 else ""
    return f"{reason} [{n}x]{more}"


@dataclasses.dataclass
class Aggregate:
    """What rank 0 accumulates while it merges the ranks' payloads (the body of results.json)."""

    item_lines: list[dict] = dataclasses.field(default_factory=list)
    scores: dict[str, dict] = dataclasses.field(default_factory=dict)
    details: dict[str, dict] = dataclasses.field(default_factory=dict)
    failures: list[tuple] = dataclasses.field(default_factory=list)
    gen_summary: dict[str, dict] = dataclasses.field(default_factory=dict)
    figure_states: dict[str, dict] = dataclasses.field(default_factory=dict)
    metric_seconds: dict[str, dict] = dataclasses.field(default_factory=dict)
    compute_seconds: dict[str, dict] = dataclasses.field(default_factory=dict)
    compute_s: float = 0.0


def aggregate_generation(agg: Aggregate, system: str, gathered: list[dict]) -> None:
    """The generation summary of ``system`` and one items.jsonl line per failed generation."""
    gens = {}
    for part in gathered:
        gens.update(part["gen"][system])
    gen_failed = {i: g for i, g in gens.items() if g["error"]}
    agg.gen_summary[system] = {"n": len(gens), "ok": len(gens) - len(gen_failed), "failed": len(gen_failed),
                               "cached": sum(1 for g in gens.values() if g["cached"])}
    for i, g in sorted(gen_failed.items()):
        agg.item_lines.append({"system": system, "id": i, "stage": "generate", "error": g["error"],
                               "reason": g["reason"]})


def _item_lines(agg: Aggregate, system: str, key: str, values: dict, errors: dict) -> None:
    """One items.jsonl line per item error and per item output value."""
    for i in sorted(set(values) | set(errors)):
        if i in errors:
            agg.item_lines.append({"system": system, "id": i, "metric": key, **errors[i]})
        for out, v in sorted(values.get(i, {}).items()):
            line = {"system": system, "id": i, "metric": key, "output": out, "value": v}
            if v is None:
                line.update(error="non_finite", reason="the metric returned a non-finite value")
            agg.item_lines.append(line)


def aggregate_metric(agg: Aggregate, system: str, plan: MetricPlan, metric, parts: list[dict], n_total: int,
                     seed: int, keep_state: bool = False) -> None:
    """Merge one metric's parts (one per rank) for ``system`` into ``agg``: item lines, failures, the
    computed cells with their intervals, details. A part is ``{"unavailable", "seconds", "state",
    "payload": {"values": {id: {output: value}}, "errors": {id: {"error", "reason"}}}}``;
    ``keep_state`` keeps the merged state in ``agg.figure_states`` (figure tables)."""
    cells = agg.scores[system]
    agg.metric_seconds.setdefault(system, {})[plan.key] = round(sum(p["seconds"] for p in parts), 3)
    unavailable = next((p["unavailable"] for p in parts if p["unavailable"]), None)
    values: dict = {}
    errors: dict = {}
    for p in parts:
        values.update(p["payload"]["values"])
        errors.update(p["payload"]["errors"])
    _item_lines(agg, system, plan.key, values, errors)
    outputs = metric_outputs(plan)
    if unavailable:
        for out in outputs:
            cells[out] = res.score_cell(None, unavailable, plan.key, 0, n_total, 0, None, None)
        return
    n_ok = n_total - len(errors)
    if n_ok == 0:
        reason = f"all {n_total} items failed: {_top_reason(errors)}"
        for out in outputs:
            cells[out] = res.score_cell(None, reason, plan.key, 0, n_total, len(errors), None, None)
        agg.failures.append((system, plan.key, len(errors), n_total, _top_reason(errors)))
        return
    if errors:
        agg.failures.append((system, plan.key, len(errors), n_total, _top_reason(errors)))
    t = time.perf_counter()
    computed = _compute(metric, parts, cells, outputs, plan.key, n_ok, n_total, len(errors))
    corpus_cis = _corpus_cis(metric, computed, outputs, seed, system, plan.key)
    agg.compute_s += time.perf_counter() - t
    agg.compute_seconds.setdefault(system, {})[plan.key] = round(time.perf_counter() - t, 3)
    if keep_state:
        agg.figure_states[system] = copy.deepcopy(metric.state())
    allowed = set(outputs) | set(plan.cls.spec.outputs)
    _record_details(agg.details[system], plan.key, metric, computed, allowed, corpus_cis)
    for out, value in computed.items():
        if out in allowed:
            cells[out] = interval_cell(plan, out, float(value), values, corpus_cis.get(out), n_ok, n_total, seed)


def _compute(metric, parts: list[dict], cells: dict, outputs: list[str], key: str, n_ok: int, n_total: int,
             n_failed: int) -> dict:
    """Merge the ranks' states and compute; a failing compute fills ``cells`` with the reason and returns {}."""
    metric.reset()
    for p in parts:
        metric.merge(p["state"])
    try:
        return dict(metric.compute())
    except Exception as exc:  # recorded as a missing value with the reason, never a number
        from eval.metrics.base import ItemError

        reason = exc.reason if isinstance(exc, ItemError) else f"{type(exc).__name__}: {exc}"
        for out in outputs:
            cells[out] = res.score_cell(None, f"compute failed: {reason}", key, n_ok, n_total, n_failed, None, None)
        return {}


def _corpus_cis(metric, computed: dict, outputs: list[str], seed: int, system: str, key: str) -> dict:
    """Corpus-level CIs the metric makes itself (FID); a failing one is missing with the reason."""
    ci_hook = getattr(metric, "corpus_ci", None)
    if not computed or not callable(ci_hook):
        return {}
    try:
        return dict(ci_hook(seed))
    except Exception as exc:  # the value stands; its CI is missing with the reason
        log.exception("%s/%s: confidence interval failed", system, key)
        return {out: {"ci95": None, "method": None, "reason": f"CI failed: {type(exc).__name__}: {exc}"}
                for out in outputs}


def _record_details(details: dict, key: str, metric, computed: dict, allowed: set, corpus_cis: dict) -> None:
    """The metric's ``info``, outputs it computed beyond its declared ones, and why a CI is missing."""
    info = getattr(metric, "info", None)
    if isinstance(info, dict):
        details[key] = info
    extra = {k: v for k, v in computed.items() if k not in allowed}
    if extra:
        details.setdefault(key, {})["extra_outputs"] = extra
    ci_reasons = {out: c["reason"] for out, c in corpus_cis.items() if c.get("ci95") is None and c.get("reason")}
    if ci_reasons:
        details.setdefault(key, {})["ci_reasons"] = ci_reasons


def interval_cell(plan: MetricPlan, out: str, value: float, values: dict, corpus_ci: Optional[dict],
                  n_ok: int, n_total: int, seed: int) -> dict:
    """The score cell of one output with its 95% interval: a bootstrap of the item mean (item-level
    metrics), of the corpus ratio (``ratio_outputs``), or the metric's own corpus CI."""
    per_item = [v[out] for v in values.values() if v.get(out) is not None]
    item_level = plan.cls.spec.level == "item" and bool(per_item)
    summary = res.summarise(per_item, seed) if item_level else None
    n = len(per_item) if item_level else n_ok
    ci_method = "percentile bootstrap of the item mean (1000 resamples)" if summary and summary.ci95 else None
    ratio = getattr(plan.cls, "ratio_outputs", {}).get(out)
    if not item_level and ratio is not None:
        num_key, den_key, scale = ratio
        pairs = [(v[num_key], v[den_key]) for v in values.values()
                 if v.get(num_key) is not None and v.get(den_key) is not None]
        ci = res.ratio_bootstrap_ci([a for a, _ in pairs], [b for _, b in pairs], seed, scale=scale)
        if ci is not None:
            summary = res.Summary(len(pairs), value, None, ci)
            ci_method = f"percentile bootstrap over items of the corpus ratio {num_key}/{den_key} (1000 resamples)"
    if not item_level and corpus_ci is not None and corpus_ci.get("ci95") is not None:
        summary = res.Summary(n, value, None, tuple(corpus_ci["ci95"]))
        ci_method = corpus_ci["method"]
    return res.score_cell(value, None, plan.key, n, n_total, n_total - n, summary, ci_method)


def results_record(*, run_id: str, table: str, split: dict, config: dict, seed: int, provenance: dict, timing: dict,
                   systems: dict, skipped: dict, plans: list[MetricPlan], agg: Aggregate,
                   figure: Optional[dict] = None) -> dict:
    """results.json (schema :data:`eval.results.SCHEMA_VERSION`) from a run's aggregate."""
    return {
        "schema": res.SCHEMA_VERSION,
        "run_id": run_id,
        "table": table,
        "split": split,
        "config": config,
        "seed": seed,
        "provenance": provenance,
        "timing": timing,
        "systems": systems,
        "systems_skipped": skipped,
        "metrics": {p.key: metric_meta(p) for p in plans},
        "scores": agg.scores,
        "details": agg.details,
        "figure": figure,
        "metric_seconds": agg.metric_seconds,  # time inside metric.update this session, per system and metric
        "compute_seconds": agg.compute_seconds,  # time of merge + compute (+ a metric's own CI), per system and metric
        "failures": [{"system": s, "metric": m, "n_failed": f, "n_total": t, "reason": r}
                     for s, m, f, t, r in agg.failures],
    }


def write_records(run_dir: Path, item_lines: list[dict], results: dict) -> None:
    """items.jsonl (sorted) and results.json."""
    item_lines.sort(key=lambda d: (d["system"], d["id"], d.get("metric", ""), d.get("output", "")))
    atomic_write_text(run_dir / "items.jsonl", "".join(canonical_json(line) + "\n" for line in item_lines))
    atomic_write_json(run_dir / "results.json", results)


def metric_outputs(plan: MetricPlan) -> list[str]:
    if plan.cls is None:
        return [plan.key]
    spec = plan.cls.spec
    outs = list(spec.outputs) or [spec.name]
    if plan.backend is not None and plan.backend.output_name and len(outs) == 1:
        outs = [plan.backend.output_name]
    return outs


def metric_meta(plan: MetricPlan) -> dict:
    if plan.cls is None:
        return {"unavailable": plan.unavailable}
    spec = plan.cls.spec
    b = plan.backend
    return {
        "version": spec.version, "level": spec.level, "higher_is_better": spec.higher_is_better, "unit": spec.unit,
        "needs": list(spec.needs), "backend": b.name, "backend_paper": b.paper,
        "output_name": b.output_name, "weights": weights_hashes(b), "unavailable": plan.unavailable,
        "missing_weights": plan.missing,
    }
