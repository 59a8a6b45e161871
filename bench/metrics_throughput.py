"""Throughput of the visual metric suite (FID, ID-SIM, LSE, diversity) on a synthetic split.

Two modes score the same items with the same metric objects' settings:

- ``shared``: one :class:`~eval.metrics.sample.Sample` per item, so decoding, face
  detection and crops are computed once and reused by all four metrics;
- ``separate``: a fresh sample per metric (each metric decodes and detects on its own).

Prints clips/min for each mode, the speed-up, whether both modes give identical numbers,
the peak resident memory, and each metric's value for ground-truth videos and for a
static-image video (the source frame repeated, GT audio) as "generated" video.

    python bench/metrics_throughput.py --corpus DIR [--limit N] [--json OUT]

Offline backends by default (fd_mobilenetv2, sface, syncnet_offline, whenet).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BACKENDS = {"fid": "fd_mobilenetv2", "idsim": "sface", "lse": "syncnet_offline", "diversity": "whenet"}


def _metrics():
    from eval.metrics.diversity import Diversity
    from eval.metrics.fid import FID
    from eval.metrics.idsim import IDSim
    from eval.metrics.lse import LSE

    return {"fid": FID(BACKENDS["fid"]), "idsim": IDSim(BACKENDS["idsim"]), "lse": LSE(BACKENDS["lse"]),
            "diversity": Diversity(BACKENDS["diversity"])}


def _items(corpus: Path, limit: int, variant: str, workdir: Path) -> list[dict]:
    """Item specs: gen/ref video paths and the source frame (RGB array)."""
    from eval.data.manifest import load_manifest, resolve
    from ttsf.media import read_video, write_video

    specs = []
    for item in list(load_manifest(corpus / "synth_test.jsonl"))[:limit]:
        ref = resolve(corpus, item.ref_video)
        clip = read_video(resolve(corpus, item.source.path))
        source = clip.frames[item.source.frame]
        gen = ref
        if variant == "static":
            gt = read_video(ref)
            gen = workdir / f"{item.id.replace('/', '_')}_static.mp4"
            write_video(gen, np.repeat(source[None], len(gt.frames), 0), fps=25, audio=gt.audio, sample_rate=16000)
        specs.append({"id": item.id, "gen_video": gen, "ref_video": ref, "source_image": source})
    return specs


def _run(specs: list[dict], shared: bool) -> tuple[dict, dict, dict, float]:
    from eval.metrics.base import ItemError
    from eval.metrics.sample import Sample

    metrics = _metrics()
    for metric in metrics.values():  # load networks outside the timed loop
        getattr(metric, "network", getattr(metric, "embedder", None))()
    per_item, errors = {}, {}
    started = time.perf_counter()
    for spec in specs:
        sample = Sample(**spec) if shared else None
        for name, metric in metrics.items():
            target = sample if shared else Sample(**spec)
            try:
                out = metric.update(target)
                if out is not None:
                    per_item[f"{spec['id']}:{name}"] = dict(out)
            except ItemError as error:
                errors[f"{spec['id']}:{name}"] = f"{error.code}: {error.reason}"
    elapsed = time.perf_counter() - started
    corpus = {}
    for name, metric in metrics.items():
        try:
            corpus[name] = dict(metric.compute())
        except ItemError as error:
            corpus[name] = {"error": error.reason}
    return corpus, per_item, errors, elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None, help="synthetic corpus root (default: the tiny preset)")
    parser.add_argument("--limit", type=int, default=10**9, help="score only the first N test items")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    corpus = args.corpus
    if corpus is None:
        from eval.synth import default_corpus

        corpus = default_corpus("tiny")
    report = {"corpus": str(corpus), "backends": BACKENDS, "threads": args.threads, "python": platform.python_version(),
              "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        gt = _items(corpus, args.limit, "gt", Path(tmp))
        static = _items(corpus, args.limit, "static", Path(tmp))
        n = len(gt)
        shared = _run(gt, shared=True)
        separate = _run(gt, shared=False)
        static_run = _run(static, shared=True)
    identical = shared[0] == separate[0] and shared[1] == separate[1]
    report.update({
        "clips": n,
        "shared": {"seconds": round(shared[3], 2), "clips_per_min": round(60 * n / shared[3], 2)},
        "separate": {"seconds": round(separate[3], 2), "clips_per_min": round(60 * n / separate[3], 2)},
        "speedup": round(separate[3] / shared[3], 2),
        "identical_numbers": identical,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "values_gt": shared[0], "values_static": static_run[0],
        "errors_gt": shared[2], "errors_static": static_run[2],
    })
    print(json.dumps(report, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
