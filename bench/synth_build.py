"""Benchmark: build time and peak memory of the synthetic corpus (issue targets: default
preset <= 5 min on 2 cores, <= 2 GB peak RSS).

    python -m bench.synth_build [--preset default|tiny] [--jobs N] [--out DIR] [--json FILE]

Builds into a fresh temporary directory (or ``--out``, which must not exist) in a child
process, and reports wall time, CPU time and the peak resident memory of the build
(children included), plus the corpus' content hash so runs can be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="default", choices=("default", "tiny"))
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default=None, help="build here (must not exist); default: a temp dir, removed")
    p.add_argument("--json", default=None, help="also write the result as JSON")
    args = p.parse_args(argv)

    from eval.synth.config import GENERATOR_VERSION, PRESETS

    cfg = PRESETS[args.preset]
    tmp = None
    if args.out:
        out = Path(args.out)
        if out.exists():
            p.error(f"{out} exists")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="synth-bench-")
        out = Path(tmp.name) / "corpus"
    code = (
        "import sys; from eval.synth import build; "
        f"build(sys.argv[1], identities={cfg.identities}, clips={cfg.clips}, seconds={cfg.seconds}, "
        f"size={cfg.size}, seed={cfg.seed}, jobs={args.jobs})"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-c", code, str(out)], env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if res.returncode != 0:
        print(res.stderr[-3000:], file=sys.stderr)
        return res.returncode
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    index = json.loads((out / "corpus.json").read_text())
    result = {
        "preset": args.preset,
        "jobs": args.jobs,
        "generator_version": GENERATOR_VERSION,
        "clips": index["counts"]["train"] + index["counts"]["test"],
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        # ru_maxrss: the largest single child process (the build, or its largest worker), in KiB on Linux
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "corpus_mib": round(sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20, 1),
        "content_hash": index["content_hash"],
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
