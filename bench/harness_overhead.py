"""Harness overhead on the synthetic Table 1: target <= 5 % of wall time.

Runs ``python -m eval.run --table 1`` (systems gt and still, the offline metric
backends) in a fresh run folder on the first N items of the synthetic test split (1x)
and on a manifest holding those items 4 times under distinct ids (4x), and reports:

- wall time of the run (results.json ``provenance.wall_time_s``, less the data
  preparation: reading the split, and building the corpus on first use), the time inside
  systems and metrics (setup, generation, update, compute) and the rest: the harness
  overhead (hashing, checkpoints, aggregation, writing results and tables);
- items/min (items x systems scored per minute);
- peak RSS of the run process (must not grow with the number of items beyond the
  metrics' own state, e.g. FID's feature sums).

Usage: ``python -m bench.harness_overhead [--items 4] [--metrics fid,idsim,lse,diversity]``.
Exit status 1 when the overhead exceeds the target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.05


def replicate(corpus: Path, dest: Path, n: int, times: int) -> Path:
    """A data root whose synth_test.jsonl holds the first ``n`` items ``times`` times (ids ``rK/<id>``)."""
    lines = [json.loads(x) for x in (corpus / "synth_test.jsonl").read_text("utf-8").splitlines()[:n]]
    dest.mkdir(parents=True, exist_ok=True)
    for item in lines:
        for rel in {item["source"]["path"], item["ref_video"], item["ref_audio"], item["text_source"]} - {None}:
            target = dest / rel
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(corpus / rel, target)  # same file system: no copy
            except OSError:
                shutil.copy2(corpus / rel, target)
    out = []
    for k in range(times):
        for item in lines:
            out.append({**item, "id": f"r{k}/{item['id']}" if times > 1 else item["id"]})
    out.sort(key=lambda d: d["id"])
    (dest / "synth_test.jsonl").write_text(
        "".join(json.dumps(d, sort_keys=True, separators=(",", ":")) + "\n" for d in out), "utf-8")
    return dest


def run_once(root: Path, out: Path, metrics: str) -> dict:
    argv = [sys.executable, "-m", "eval.run", "--table", "1", "--split", "synth_test", "--data-root", str(root),
            "--systems", "gt,still", "--metrics", metrics, "--limit", "0", "--out", str(out), "--run-id", "bench",
            "--quiet"]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed:\n{stdout}\n{stderr[-3000:]}")
    res = json.loads((out / "bench" / "results.json").read_text("utf-8"))
    wall = res["provenance"]["wall_time_s"]
    n = res["split"]["n_items"] * len(res["systems"])
    return {
        "items": res["split"]["n_items"], "item_systems": n, "wall_s": wall, "process_s": round(elapsed, 2),
        "model_s": res["timing"]["model_s"], "overhead_s": res["timing"]["harness_overhead_s"],
        "overhead_frac": res["timing"]["harness_overhead_s"] / (wall - res["timing"].get("data_prep", 0.0)),
        "checkpoint_s": res["timing"].get("score_checkpoint", 0.0),
        "items_per_min": 60.0 * n / wall if wall else None,
        "peak_rss_mb": usage.ru_maxrss / 1024.0,
        "values": {s: {o: c["value"] for o, c in cells.items()} for s, cells in res["scores"].items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=4, help="items at 1x (default 4)")
    parser.add_argument("--metrics", default="fid,idsim,lse,diversity")
    parser.add_argument("--preset", default="default", choices=("default", "tiny"))
    args = parser.parse_args()
    from eval.synth import default_corpus

    corpus = default_corpus(args.preset)
    rows = {}
    cache = Path(os.environ.get("TTSF_CACHE", Path.home() / ".cache" / "ttsf-bench"))
    with tempfile.TemporaryDirectory(prefix="bench-", dir=cache if cache.is_dir() else None) as tmp:
        tmp = Path(tmp)
        for times in (1, 4):
            root = replicate(corpus, tmp / f"data{times}", args.items, times)
            rows[f"{times}x"] = run_once(root, tmp / f"runs{times}", args.metrics)
    print(f"harness overhead, synthetic Table 1 ({args.preset} corpus, systems gt+still, metrics {args.metrics})")
    print(f"{'size':5s} {'items':>5s} {'wall s':>8s} {'model s':>8s} {'overhead s':>10s} {'overhead':>8s} "
          f"{'ckpt s':>7s} {'items/min':>9s} {'peak RSS MB':>11s}")
    worst = 0.0
    for name, r in rows.items():
        worst = max(worst, r["overhead_frac"])
        print(f"{name:5s} {r['items']:5d} {r['wall_s']:8.1f} {r['model_s']:8.1f} {r['overhead_s']:10.2f} "
              f"{100 * r['overhead_frac']:7.2f}% {r['checkpoint_s']:7.2f} {r['items_per_min']:9.2f} "
              f"{r['peak_rss_mb']:11.0f}")
    growth = rows["4x"]["peak_rss_mb"] - rows["1x"]["peak_rss_mb"]
    print(f"peak RSS growth 1x -> 4x: {growth:+.0f} MB; target overhead <= {100 * TARGET:.0f}%: "
          f"{'met' if worst <= TARGET else 'NOT met'} (worst {100 * worst:.2f}%)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
