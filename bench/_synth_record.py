"""What ``bench.ttsf_synth_eval`` and ``bench.face_reenact_eval`` share: the unseen-identity items of
the synthetic corpus, and scoring rows of in-memory samples into a results.json record through the
harness's own code (:func:`eval.run.score.score_samples`, :mod:`eval.run.aggregate`), so these
numbers have the schema, intervals and failure accounting of every ``eval.run`` result.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

#: (metric, offline backend) of each column these benches report
METRICS = {"idsim": "sface", "diversity": "whenet", "lse": "syncnet_offline"}


def unseen_items(root: Path, limit: int) -> tuple[list, list[str]]:
    """The first ``limit`` test items whose speaker is absent from the training manifest, with
    identities interleaved (so a small limit still covers every unseen identity), and those
    identities."""
    from ttsf.data.manifest import load_manifest

    train_speakers = {it.speaker for it in load_manifest(root / "synth_train.jsonl")}
    test = sorted((it for it in load_manifest(root / "synth_test.jsonl") if it.speaker not in train_speakers),
                  key=lambda it: it.id)
    by_spk: dict = {}
    for it in test:
        by_spk.setdefault(it.speaker, []).append(it)
    order = [it for group in zip(*by_spk.values()) for it in group] or test
    return order[:limit], sorted(by_spk)


def pose_step(metric, sample) -> dict:
    """``pose_step``: the mean absolute frame-to-frame change of the head-pose angles (degrees per
    frame, over yaw/pitch/roll), which tells smooth head motion from jitter (the std over time,
    which diversity is, cannot). Read from the pose track ``diversity`` cached on the sample."""
    angles, _ = metric.pose_track(sample)
    return {"pose_step": float(np.mean(np.abs(np.diff(angles, axis=0))))}


def score_rows(rows: dict[str, dict[str, list]], seed: int):
    """``rows``: row -> metric -> samples. Returns the aggregate and the metric plans.

    Each metric runs with its offline backend (:data:`METRICS`); ``diversity`` rows also get a
    ``pose_step`` cell (item mean with its bootstrap interval, like any item-level output).
    """
    from eval.run.aggregate import Aggregate, aggregate_metric, interval_cell
    from eval.run.plugins import plan_metric
    from eval.run.score import score_samples

    agg = Aggregate()
    plans = {name: plan_metric(name, True, backend, True) for name, backend in METRICS.items()}
    for row, by_metric in rows.items():
        agg.scores[row], agg.details[row] = {}, {}
        for name, samples in by_metric.items():
            plan = plans[name]
            extra: Optional[Callable] = pose_step if name == "diversity" else None
            metric, part = score_samples(plan, samples, label=row, item_extra=extra)
            aggregate_metric(agg, row, plan, metric, [part], len(samples), seed)
            values = part["payload"]["values"]
            steps = [v["pose_step"] for v in values.values() if v.get("pose_step") is not None]
            if extra is not None and steps:
                agg.scores[row]["pose_step"] = interval_cell(plan, "pose_step", float(np.mean(steps)), values, None,
                                                             len(values), len(samples), seed)
    used = {name for by_metric in rows.values() for name in by_metric}
    return agg, [plans[name] for name in METRICS if name in used]


def write_record(out: Path, *, run_id: str, table: str, agg, plans, items: list, speakers: list[str], root: Path,
                 config: dict, seed: int, systems: dict, timing: dict, started: str, wall0: float) -> dict:
    """``out/results.json`` + ``out/items.jsonl`` in the harness's schema; returns the results."""
    from eval import results as res
    from eval.run.aggregate import results_record, write_records

    split = {"name": "synth_test", "sha256": None, "n_items": len(items), "limit": config.get("limit"),
             "limit_rule": "test items of speakers absent from synth_train, identities interleaved "
                           "(bench/_synth_record.py:unseen_items)",
             "synthetic": True, "data_root": None, "root": str(root), "corpus": config.get("corpus"),
             "items": [it.id for it in items], "unseen_speakers": speakers}
    provenance = {**res.provenance("cpu"), "started": started, "finished": res.now_iso(),
                  "wall_time_s": round(time.perf_counter() - wall0, 3), "world_size": 1}
    results = results_record(run_id=run_id, table=table, split=split, config=config, seed=seed,
                             provenance=provenance, timing=timing, systems=systems, skipped={}, plans=plans, agg=agg)
    write_records(out, agg.item_lines, results)
    return results


def print_rows(results: dict) -> None:
    """One line per row and output: the value with its interval and failures, or why it is missing."""
    rows = list(results["scores"])
    width = max(len(r) for r in rows)
    for row in rows:
        for out, cell in results["scores"][row].items():
            backend = results["metrics"][cell["metric"]]["backend"]
            if cell["value"] is None:
                print(f"  {row:{width}s} {out:9s} [{backend}] missing: {cell['reason']}")
                continue
            ci = f" [{cell['ci95'][0]:.4f}, {cell['ci95'][1]:.4f}]" if cell["ci95"] else ""
            print(f"  {row:{width}s} {out:9s} [{backend}] {cell['value']:.4f}{ci}  n = {cell['n']}, "
                  f"failed items: {cell['n_failed']}")
