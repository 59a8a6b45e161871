"""One-off: convert the records ``bench.ttsf_synth_eval`` / ``bench.face_reenact_eval`` wrote in their
own schema (``results/ttsf_synth_eval/*.json``, 2026-11-26) into the harness's results.json schema.

    python -m scripts.convert_synth_eval_records OLD.json... --out results/experiments/ttsf_synth_eval

Each OLD.json becomes ``<out>/<stem>/results.json`` + ``items.jsonl``. The values are copied, never
recomputed: every per-item value goes to items.jsonl; a cell's value is the old corpus value, its
95% interval the harness's bootstrap of the item mean over the recorded per-item values
(:func:`eval.run.aggregate.interval_cell`), outputs beside the metric's own (``n_items``) go to
``details`` as the harness does. The old records carry no git commit or package versions: the
provenance says so.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench._synth_record import METRICS


def convert(old: dict, name: str, source: str) -> tuple[dict, list[dict]]:
    from eval.run.aggregate import Aggregate, _item_lines, _record_details, interval_cell, results_record
    from eval.run.plugins import plan_metric

    agg = Aggregate()
    plans = {}
    rows = [k for k, v in old.items() if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values())]
    items = old["items"]
    for row in rows:
        agg.scores[row], agg.details[row] = {}, {}
        for name_, rec in old[row].items():
            assert METRICS[name_] == rec["backend"], (name_, rec["backend"])
            plan = plans.setdefault(name_, plan_metric(name_, True, rec["backend"], True))
            values = rec["items"]
            errors = {i: {"error": "item_error", "reason": r} for i, r in rec.get("failed", {}).items()}
            _item_lines(agg, row, plan.key, values, errors)
            computed = dict(rec["value"] or {})
            allowed = set(plan.cls.spec.outputs) | {"pose_step"}
            _record_details(agg.details[row], plan.key, None, computed, allowed, {})
            n_ok = len(items) - len(errors)
            for out, value in computed.items():
                if out in allowed:
                    agg.scores[row][out] = interval_cell(plan, out, float(value), values, None, n_ok, len(items),
                                                         old["seed"] if "seed" in old else 0)
    split = {"name": "synth_test", "sha256": None, "n_items": len(items), "limit": len(items),
             "limit_rule": "test items of speakers absent from synth_train, identities interleaved "
                           "(bench/_synth_record.py:unseen_items)",
             "synthetic": True, "data_root": None, "root": old["corpus"], "corpus": "default",
             "items": items, "unseen_speakers": old["unseen_speakers"]}
    config = {k: old[k] for k in ("checkpoint", "checkpoint_sha256", "steps", "seed", "lip", "size") if k in old}
    config["converted_from"] = source
    generation = {"n": len(items), "ok": len(items), "failed": 0}
    systems = {row: {"config": {}, "provenance": {}, "produces": [], "speech_source": None, "generation": generation}
               for row in rows}
    provenance = {"converted_from": source, "note": "converted from the bench's earlier own-schema record; the "
                  "original run recorded no git commit, package versions or times"}
    timing = {k.replace("_seconds", "_s"): old[k] for k in ("generation_seconds", "reenactment_seconds") if k in old}
    table = "face_reenact_eval" if "lip" in old else "ttsf_synth_eval"
    results = results_record(run_id=name, table=table, split=split, config=config, seed=old.get("seed", 0),
                             provenance=provenance, timing=timing, systems=systems, skipped={},
                             plans=[plans[n] for n in METRICS if n in plans], agg=agg)
    return results, agg.item_lines


def main(argv=None) -> int:
    from eval.run.aggregate import write_records

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    for path in args.old:
        results, lines = convert(json.loads(path.read_text("utf-8")), path.stem, str(path))
        write_records(args.out / path.stem, lines, results)
        print(f"{path} -> {args.out / path.stem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
