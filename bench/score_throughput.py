"""Scoring speed: seconds of media scored per wall-clock second, against the networks' floor.

For each data set (the synthetic test split, ``tests/data/real_av``) and thread count:

- **alone**: each metric on its own, a fresh :class:`~eval.metrics.sample.Sample` per item
  (it decodes, detects and crops by itself); ``one_by_one`` is the sum of these times;
- **together**: all Table 1 metrics with the default offline backends (fd_mobilenetv2 FID,
  sface ID-SIM, fused_offline LSE, whenet diversity; MobileNetV2 and WHENet in ONNX Runtime,
  each metric's default) on one shared sample per item, and all Table 3 metrics
  (faster-whisper-base WER, MCD, Resemblyzer C-SIM, F0 RMSE) likewise; ``shared_speedup``
  = one_by_one / together; both modes must give identical numbers;
- **floor**: the same networks alone on pre-decoded, pre-cropped inputs batched across
  items (Table 1: YuNet detection on the decoded frames, MobileNetV2 on both sides'
  frames, SFace on the aligned faces, SyncNet on the mouth crops and MFCC windows, dlib's
  68 landmarks on the detected boxes and the landmark/MFCC correlation over offsets, WHENet
  on the head crops; each network in the runtime its metric uses); Table 3: each metric's
  ``update`` on samples whose decoded audio is already cached (ASR, speaker encoder and DSP
  only). ``suite_over_floor`` = together / floor.

Throughput is media seconds (generated video at 25 fps for Table 1, generated speech for
Table 3) per wall second: >= 1 is real time. Ground truth is scored as the generated
output (its own reference), so every network sees real work. The machine's load average
is recorded before and after each block: timings on a shared machine are noisy.

    python -m bench.score_throughput [--quick] [--threads 1,2] [--limit N] [--json OUT]
    python -m bench.score_throughput --quick

Writes ``results/bench/score_throughput-<utc>.json`` (versions, git commit, threads, load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REAL_AV = REPO / "tests" / "data" / "real_av"
TABLE1 = {"fid": "fd_mobilenetv2", "idsim": "sface", "lse": "fused_offline", "diversity": "whenet"}
TABLE3 = {"wer": "faster-whisper-base", "mcd": None, "csim": "resemblyzer", "f0_rmse": None}
#: cache entries that hold decoded media only (kept for the Table 3 floor)
DECODED_PREFIXES = ("audio:",)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def synthetic_items(limit: int) -> list[dict]:
    """Specs of the first ``limit`` synthetic test items: GT video/audio as the generated output."""
    from eval.synth import default_corpus
    from ttsf.data.manifest import load_manifest, resolve
    from ttsf.media import read_video

    corpus = default_corpus("tiny")
    specs = []
    for item in list(load_manifest(corpus / "synth_test.jsonl"))[:limit]:
        video, audio = resolve(corpus, item.ref_video), resolve(corpus, item.ref_audio)
        source = read_video(resolve(corpus, item.source.path)).frames[item.source.frame]
        text = item.text if item.text is not None else resolve(corpus, item.text_source).read_text("utf-8").strip()
        specs.append({"id": item.id, "gen_video": video, "ref_video": video, "gen_audio": audio, "ref_audio": audio,
                      "source_image": source, "text": text})
    return specs


def real_items(limit: int) -> list[dict]:
    """Specs of the first ``limit`` real clips (sorted names); no transcript, so no WER."""
    from ttsf.media import read_video

    specs = []
    for path in sorted(REAL_AV.glob("*.mp4"))[:limit]:
        source = read_video(path).frames[0]
        specs.append({"id": path.stem, "gen_video": path, "ref_video": path, "gen_audio": path, "ref_audio": path,
                      "source_image": source, "text": None})
    return specs


#: Metrics whose networks can run in torch or ONNX Runtime (``eval.metrics.nets.ort``).
RUNTIME_METRICS = ("fid", "diversity")


def _metrics(table: dict, names=None, runtime: str | None = None) -> dict:
    """The table's metrics; ``runtime`` (torch / onnxruntime) for those that have one, else their default."""
    from eval.metrics import create

    out = {}
    for name, backend in table.items():
        if names is None or name in names:
            options = {"runtime": runtime} if runtime and name in RUNTIME_METRICS else {}
            out[name] = create(name, backend=backend, **options)
    return out


def _warm(metrics: dict, spec: dict) -> None:
    """One untimed item through every metric (loads networks, first-call allocations)."""
    from eval.metrics.base import ItemError
    from eval.metrics.sample import Sample

    sample = Sample(**spec)
    for metric in metrics.values():
        try:
            metric.update(sample)
        except ItemError:
            pass
        metric.reset()


def _score(metrics: dict, specs: list[dict], shared: bool, samples: list | None = None) -> dict:
    """Time each metric's updates (``shared``: one sample per item for all metrics)."""
    from eval.metrics.base import ItemError
    from eval.metrics.sample import Sample

    seconds = {name: 0.0 for name in metrics}
    values, errors = {}, {}
    started = time.perf_counter()
    for i, spec in enumerate(specs):
        sample = samples[i] if samples is not None else (Sample(**spec) if shared else None)
        for name, metric in metrics.items():
            target = sample if sample is not None else Sample(**spec)
            t0 = time.perf_counter()
            try:
                out = metric.update(target)
                if out is not None:
                    values[f"{spec['id']}:{name}"] = {k: float(v) for k, v in out.items()}
            except ItemError as error:
                errors[f"{spec['id']}:{name}"] = f"{error.code}: {error.reason}"
            seconds[name] += time.perf_counter() - t0
    total = time.perf_counter() - started
    corpus = {}
    for name, metric in metrics.items():
        try:
            corpus[name] = {k: float(v) for k, v in metric.compute().items()}
        except ItemError as error:
            corpus[name] = {"error": error.reason}
        metric.reset()
    return {"seconds": total, "per_metric_seconds": seconds, "corpus": corpus, "items": values, "errors": errors}


def _durations(specs: list[dict]) -> tuple[float, float]:
    """(video seconds at 25 fps, audio seconds) of the generated outputs."""
    from eval.metrics import visual
    from eval.metrics.audio import audio
    from eval.metrics.sample import Sample

    video = audio_s = 0.0
    for spec in specs:
        sample = Sample(**spec)
        video += len(visual.frames(sample, "gen_video")) / visual.VIDEO_FPS
        audio_s += len(audio(sample, "gen_audio", 16000)) / 16000.0
    return video, audio_s


def table1_floor(metrics: dict, specs: list[dict], batch: int = 64) -> dict:
    """Seconds of each Table 1 network alone on pre-decoded, pre-cropped inputs, batched across items."""
    import torch

    from eval.metrics import visual
    from eval.metrics.diversity import CROP_MARGINS
    from eval.metrics.functional.lse import audio_embeddings, video_embeddings
    from eval.metrics.sample import Sample
    from ttsf.pretrained.mfcc import to_int16_scale

    frames, faces, pose, lse_in = [], [], [], []
    lse, div = metrics["lse"], metrics["diversity"]
    for spec in specs:  # untimed: decode, detect, crop
        s = Sample(**spec)
        f = visual.frames(s, "gen_video")
        frames.append(f)
        faces.append(visual.aligned_faces(s, "gen_video", metrics["idsim"].detector)[0])
        track = visual.faces(s, "gen_video", div.detector)
        index = np.flatnonzero(track.found)
        index = index[index % div.frame_stride == 0]
        pose.append(visual.box_crops(f[index], track.boxes[index], CROP_MARGINS[div.backend.name], 224))
        crops = visual.syncnet_crops(s, "gen_video", lse.detector)
        boxes = visual.fill_track(visual.faces(s, "gen_video", lse.detector).boxes)
        lse_in.append((crops, to_int16_scale(lse.speech(s)), f, boxes))
    seconds = {}
    t0 = time.perf_counter()
    for f in frames:
        visual.detect_yunet(f)
    seconds["detect_yunet"] = time.perf_counter() - t0
    fid = metrics["fid"]
    net = fid.network()
    batch_in = torch.from_numpy(np.concatenate(frames)).permute(0, 3, 1, 2).float().div(255.0)
    tensors = [batch_in.contiguous(memory_format=torch.channels_last)] * 2  # gen and ref, as the suite feeds them
    t0 = time.perf_counter()
    with torch.inference_mode():
        for x in tensors:
            for start in range(0, len(x), batch):
                net(x[start:start + batch])
    seconds["fid"] = time.perf_counter() - t0
    embed = metrics["idsim"].embedder()
    all_faces = np.concatenate(faces)
    t0 = time.perf_counter()
    embed(all_faces)
    seconds["idsim"] = time.perf_counter() - t0
    snet = lse.network()
    from eval.metrics.functional.lse import n_windows

    t0 = time.perf_counter()
    for crops, wav, _, _ in lse_in:
        windows = n_windows(len(crops), len(wav))
        video_embeddings(snet, crops, len(crops) - 4, lse.batch_size, lse.device)
        audio_embeddings(snet, wav, windows, lse.batch_size, lse.device)
    seconds["lse"] = time.perf_counter() - t0
    if lse.backend.name in ("fused_offline", "landmark_cca"):
        seconds["lse_landmarks"] = _landmark_floor(lse_in, lse.vshift)
    all_pose = np.concatenate(pose)
    t0 = time.perf_counter()
    div.angles(all_pose)
    seconds["diversity"] = time.perf_counter() - t0
    seconds["total"] = sum(seconds.values())
    return seconds


def _landmark_floor(lse_in: list, vshift: int) -> float:
    """Seconds of dlib's 68 landmarks on the detected boxes and the per-offset canonical
    correlation (``landmark_cca``, half of ``fused_offline``) for every item."""
    from eval.metrics.functional.lse_landmark import landmark_lse
    from eval.metrics.nets.face_landmarks import dlib_box_from_yunet, landmarks68
    from eval.metrics.nets.weights import locate

    model = str(locate("dlib_lm68"))
    landmarks68(lse_in[0][2][:1], dlib_box_from_yunet(lse_in[0][3][:1]), model)  # untimed: loads the predictor
    t0 = time.perf_counter()
    for _, wav, frames, boxes in lse_in:
        points = landmarks68(frames, dlib_box_from_yunet(boxes), model)
        usable = min(len(points), len(wav) // 640)
        landmark_lse(points[:usable], wav[:usable * 640], vshift)
    return time.perf_counter() - t0


def table3_floor(metrics: dict, specs: list[dict]) -> dict:
    """Seconds of each Table 3 metric's update on samples whose decoded audio is cached."""
    from eval.metrics.sample import Sample

    samples = [Sample(**spec) for spec in specs]
    _score(metrics, specs, shared=True, samples=samples)  # untimed: decodes and fills the caches
    for sample in samples:
        for key in [k for k in sample.cache if not k.startswith(DECODED_PREFIXES)]:
            del sample.cache[key]
    run = _score(metrics, specs, shared=True, samples=samples)
    out = dict(run["per_metric_seconds"])
    out["total"] = run["seconds"]
    return out


def _rate(media_s: float, seconds: float) -> float | None:
    return round(media_s / seconds, 3) if seconds > 0 else None


def bench_table(table: dict, specs: list[dict], media_s: float, floor_fn, runtime: str | None = None) -> dict:
    """Alone / together / floor for one table on one data set (current thread settings)."""
    metrics = _metrics(table, runtime=runtime)
    _warm(metrics, specs[0])
    load_before = _load()
    alone = {}
    for name in metrics:
        run = _score({name: metrics[name]}, specs, shared=False)
        alone[name] = {"seconds": round(run["seconds"], 3), "media_s_per_s": _rate(media_s, run["seconds"]),
                       "corpus": run["corpus"][name], "errors": run["errors"]}
    one_by_one = sum(v["seconds"] for v in alone.values())
    together = _score(metrics, specs, shared=True)
    floor = floor_fn(metrics, specs)
    same = all(alone[n]["corpus"] == together["corpus"][n] for n in metrics)
    return {
        "media_seconds": round(media_s, 2),
        "alone": alone,
        "one_by_one": {"seconds": round(one_by_one, 3), "media_s_per_s": _rate(media_s, one_by_one)},
        "together": {"seconds": round(together["seconds"], 3), "media_s_per_s": _rate(media_s, together["seconds"]),
                     "per_metric_seconds": {k: round(v, 3) for k, v in together["per_metric_seconds"].items()},
                     "corpus": together["corpus"], "errors": together["errors"]},
        "shared_speedup": round(one_by_one / together["seconds"], 3),
        "identical_numbers": same,
        "floor": {"seconds": {k: round(v, 3) for k, v in floor.items()},
                  "media_s_per_s": _rate(media_s, floor["total"])},
        "suite_over_floor": round(together["seconds"] / floor["total"], 3),
        "runtimes": {name: getattr(metric, "runtime", None) for name, metric in metrics.items()},
        "load_before": load_before, "load_after": _load(),
    }


def set_threads(n: int) -> None:
    """torch intra-op, OpenCV and BLAS threads = ``n`` (ONNX Runtime sessions read ``OMP_NUM_THREADS``)."""
    import cv2
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    cv2.setNumThreads(n)
    threadpool_limits(n)


def provenance() -> dict:
    """Git commit, package versions (``eval.results``), machine and time of this bench run."""
    from eval.results import git_commit, package_versions

    return {**git_commit(REPO), "versions": {"python": platform.python_version(), **package_versions()},
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def run(datasets: dict, threads: list[int], tables: list[str], runtime: str | None = None) -> dict:
    report = {"provenance": provenance(), "backends": {"table1": TABLE1, "table3": TABLE3}, "runs": []}
    for name, specs in datasets.items():
        video_s, audio_s = _durations(specs)
        for n in threads:
            set_threads(n)
            entry = {"dataset": name, "items": len(specs), "threads": n}
            if "1" in tables:
                entry["table1"] = bench_table(TABLE1, specs, video_s, table1_floor, runtime)
            if "3" in tables:
                t3 = TABLE3 if all(s["text"] for s in specs) else {k: v for k, v in TABLE3.items() if k != "wer"}
                entry["table3"] = bench_table(t3, specs, audio_s, table3_floor)
                if t3 is not TABLE3:
                    entry["table3"]["skipped"] = {"wer": "no transcript for these clips"}
            report["runs"].append(entry)
            _print(entry)
    return report


def _print(entry: dict) -> None:
    print(f"== {entry['dataset']} ({entry['items']} items), {entry['threads']} thread(s)")
    for table in ("table1", "table3"):
        if table not in entry:
            continue
        t = entry[table]
        per = ", ".join(f"{k} {v['media_s_per_s']}x" for k, v in t["alone"].items())
        print(f"  {table}: {t['media_seconds']} s of media; alone: {per}")
        print(f"    one by one {t['one_by_one']['media_s_per_s']}x, together {t['together']['media_s_per_s']}x "
              f"(shared speed-up {t['shared_speedup']}x, identical numbers: {t['identical_numbers']}), "
              f"floor {t['floor']['media_s_per_s']}x, suite/floor {t['suite_over_floor']}; "
              f"load {t['load_before']} -> {t['load_after']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 synthetic + 1 real item, 1 thread (make bench)")
    parser.add_argument("--limit", type=int, default=4, help="items per data set (default 4)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--tables", default="1,3", help="which tables' metrics (default 1,3)")
    parser.add_argument("--datasets", default="synthetic,real_av")
    parser.add_argument("--runtime", choices=("torch", "onnxruntime"), default=None,
                        help="network runtime of FID and diversity (default: each metric's, ONNX Runtime on the CPU)")
    parser.add_argument("--json", type=Path, default=None,
                        help="output (default results/bench/score_throughput-<utc>.json)")
    args = parser.parse_args(argv)
    threads = [1] if args.quick else [int(x) for x in args.threads.split(",")]
    limits = {"synthetic": 2, "real_av": 1} if args.quick else {"synthetic": args.limit, "real_av": args.limit}
    loaders = {"synthetic": synthetic_items, "real_av": real_items}
    datasets = {name: loaders[name](limits[name]) for name in args.datasets.split(",")}
    report = run(datasets, threads, args.tables.split(","), args.runtime)
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    out = args.json or REPO / "results" / "bench" / f"score_throughput-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", "utf-8")
    print(f"wrote {out}")
    ok = all(entry[t]["identical_numbers"] for entry in report["runs"] for t in ("table1", "table3") if t in entry)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
