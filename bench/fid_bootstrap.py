"""FID clip bootstrap: the default fast path against the general path, same seed.

Random features shaped like a Table 1 run (``--clips`` items x ``--frames`` frames per side,
``--dims`` features, per-clip means and scales, full-rank covariances) feed
:class:`~eval.metrics.functional.frechet.ClipBootstrap` as built by default (``resolvent``
where the clips are few next to the dimensions: small solves per resample over tables
fixed once; else ``whitened``: one eigensolve per resample in a basis fixed once), with
``rational=False`` (``whitened``; left out with ``--no-whitened``) and with
``whiten=False`` (``cholesky``: Cholesky of each resampled covariance, two ``d^3``
products, eigensolve). Prints setup and per-resample seconds, the speed-ups against
``cholesky``, and the largest relative difference of the seeded replicates and of their
percentile 95% interval (must be float rounding). Target (issue 17): >= 4x at d = 2048,
B = 50, 200 clips. Every path gets ``--threads`` (default: the cores this process may use):
the general path as BLAS threads inside each resample (as before), the fixed-basis paths
as that many resamples side by side, each on a single-threaded BLAS.

    python -m bench.fid_bootstrap [--quick] [--dims 2048] [--clips 200] [--frames 20] [--resamples 50]
                                  [--threads N] [--no-whitened] [--note TEXT]

Writes ``results/bench/fid_bootstrap-<utc>.json`` (``--json`` to choose).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def clip_stats(rng: np.random.Generator, clips: int, frames: int, dims: int, shift: float):
    from eval.metrics.functional.frechet import ClipStats

    means, outer = np.zeros((clips, dims)), np.zeros((dims, dims))
    for i in range(clips):
        x = rng.standard_normal((frames, dims)) * rng.uniform(0.5, 2.0) + rng.standard_normal(dims) + shift
        means[i] = x.mean(0)
        outer += x.T @ x
    return ClipStats(means, np.full(clips, float(frames)), outer)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="d = 1280, B = 4 (make bench)")
    parser.add_argument("--dims", type=int, default=2048)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--resamples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="BLAS threads (general path) / resamples at once (whitened path)")
    parser.add_argument("--no-whitened", action="store_true", help="skip the eigensolve fixed-basis path")
    parser.add_argument("--note", default="", help="free text kept in the JSON (e.g. what else ran)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.dims, args.resamples = 1280, 4
    import scipy.linalg  # noqa: F401  (loads scipy's own BLAS now, so --threads limits it too)
    from threadpoolctl import threadpool_limits

    from eval.metrics.functional.frechet import ClipBootstrap

    rng = np.random.default_rng(args.seed)
    gen = clip_stats(rng, args.clips, args.frames, args.dims, 0.0)
    ref = clip_stats(rng, args.clips, args.frames, args.dims, 0.1)
    report = {"dims": args.dims, "clips": args.clips, "frames": args.frames, "resamples": args.resamples,
              "seed": args.seed, "threads": args.threads, "note": args.note,
              "load_before": [round(x, 2) for x in os.getloadavg()],
              "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    values = {}
    paths = [{}] + ([] if args.no_whitened else [{"rational": False}]) + [{"whiten": False}]
    for options in paths:
        with threadpool_limits(args.threads, user_api="blas"):
            t0 = time.perf_counter()
            boot = ClipBootstrap(gen, ref, **options)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            workers = 1 if boot.method == "cholesky" else args.threads
            values[boot.method] = boot.replicates(args.resamples, seed=args.seed, workers=workers)
            run = time.perf_counter() - t0
        report.setdefault("fast", boot.method)
        report[boot.method] = {"setup_s": round(setup, 3), "resamples_s": round(run, 3),
                               "total_s": round(setup + run, 3),
                               "per_resample_s": round(run / args.resamples, 4)}
        print(f"{boot.method:9s} setup {setup:7.2f} s  {args.resamples} resamples {run:7.2f} s  "
              f"({run / args.resamples:.3f} s each)", flush=True)
    slow = values["cholesky"]
    for method in values:
        if method == "cholesky":
            continue
        report[method]["speedup_total"] = round(report["cholesky"]["total_s"] / report[method]["total_s"], 2)
        report[method]["speedup_per_resample"] = round(
            report["cholesky"]["per_resample_s"] / report[method]["per_resample_s"], 2)
        report[method]["max_rel_diff_replicates"] = float(np.max(np.abs(values[method] - slow) / np.abs(slow)))
    fast = values[report["fast"]]
    report["speedup_total"] = report[report["fast"]]["speedup_total"]
    report["speedup_per_resample"] = report[report["fast"]]["speedup_per_resample"]
    report["max_rel_diff_replicates"] = report[report["fast"]]["max_rel_diff_replicates"]
    ci_fast, ci_slow = np.percentile(fast, [2.5, 97.5]), np.percentile(slow, [2.5, 97.5])
    report["ci95_fast"], report["ci95_cholesky"] = ci_fast.tolist(), ci_slow.tolist()
    report["max_rel_diff_ci95"] = float(np.max(np.abs(ci_fast - ci_slow) / np.abs(ci_slow)))
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"{report['fast']}: speed-up {report['speedup_total']}x overall "
          f"({report['speedup_per_resample']}x per resample); "
          f"interval {ci_fast} vs {ci_slow}, max rel diff {report['max_rel_diff_ci95']:.1e}; "
          f"load {report['load_before']} -> {report['load_after']}")
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    out = args.json or REPO / "results" / "bench" / f"fid_bootstrap-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    print(f"wrote {out}")
    return 0 if report["max_rel_diff_ci95"] < 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
