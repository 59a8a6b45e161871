"""Training throughput per stage of the paper recipe: steps/s, examples/s and peak memory.

    python -m bench.train_throughput [--stages tts face joint] [--preset paper|cpu] [--steps 5]
                                     [--device auto|cpu|cuda] [--batch-size N] [--amp] [--json out.json]

Runs the real trainers (``ttsf.train.{tts,face,joint}``) with the paper configs
(``configs/tts/lrs3.yaml``, ``configs/face/lrs3_paper.yaml``, ``configs/joint/lrs3_paper.yaml``)
on the tiny synthetic corpus (frames resized to the model size; step time does not depend on
the data's content), seeded random weights. ``--preset paper`` keeps the paper sizes (256 px,
style 512, channels 64..512, 32-frame windows, Matcha-TTS, batch sizes of the configs);
``--preset cpu`` shrinks the face branch to 32 px / style 64 (what the CI recipe test runs).
Default: ``paper`` on CUDA, ``cpu`` on CPU. Losses: the paper's (VGG19, ArcFace) when their
files are present, else the offline ones (MobileNetV2, SFace) -- printed and recorded.

Step time = median over steps 2..N of the per-step wall time the trainer logs (the first
step, with allocations and lazy R1, is excluded). Peak memory: ``torch.cuda.max_memory_allocated``
on CUDA, the process's max RSS on CPU. With ``--gpu-hours`` the recipe's step counts
(scripts/train_paper.sh) turn the measured step time into GPU-hours for an 8-GPU run.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

CONFIGS = {"tts": REPO / "configs/tts/lrs3.yaml", "face": REPO / "configs/face/lrs3_paper.yaml",
           "joint": REPO / "configs/joint/lrs3_paper.yaml"}
CPU_FACE = {"model.face.size": 32, "model.face.style_dim": 64, "model.face.channel_base": 16,
            "model.face.channel_max": 64}
#: optimiser steps of the recipe per stage (scripts/train_paper.sh) and its GPUs
RECIPE_STEPS = {"tts": 1_170_000, "face": 200_000, "joint": 375_000}
RECIPE_GPUS = 8


def _losses() -> dict:
    from ttsf.losses.perceptual import vgg19_path
    from ttsf.pretrained.face_recognition import MissingRecogniser, locate

    try:
        locate("arcface")
        identity = "arcface"
    except MissingRecogniser:
        identity = "sface"
    return {"losses.perceptual": "vgg19" if vgg19_path() else "mobilenet_v2", "losses.identity": identity,
            "losses.sync": "none"}


def _seconds(csv_path: Path) -> list[float]:
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    t = [0.0] + [float(r["seconds"]) for r in rows]  # seconds since the trainer's loop started
    return [b - a for a, b in zip(t, t[1:])]


def _peak(device: torch.device) -> dict:
    if device.type == "cuda":
        return {"peak_gpu_mib": round(torch.cuda.max_memory_allocated(device) / 2**20, 1)}
    return {"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_stage(stage: str, preset: str, device: str, steps: int, batch: int | None, amp, work: Path) -> dict:
    from eval.synth import default_corpus

    corpus = default_corpus("tiny")
    out = work / stage
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    if stage == "tts":
        from ttsf.train.tts import train

        sets = {"data.corpus": "synth:tiny", "data.train_manifest": None, "data.root": None, "train.device": device,
                "train.log_every": 1, "train.ckpt_every": 10**9}
        if batch:
            sets["train.batch_size"] = batch
        train(CONFIGS["tts"], {"out_dir": str(out), "max_steps": steps}, resume="no", sets=sets)
        per_step = _seconds(out / "losses.csv")
        bs = batch or 32
    else:
        from ttsf.train.av_common import read_config

        trainer = __import__(f"ttsf.train.{stage}", fromlist=["train"]).train
        over = {"data.root": str(corpus), "data.train": "synth_train.jsonl", "train.device": device,
                "train.steps": steps, "train.out_dir": str(out), "train.log_every": 1, "train.sample_every": 0,
                "train.ckpt_every": 0, "train.amp": amp, "init.tts": None, "init.face": None, **_losses()}
        if preset == "cpu":
            over.update(CPU_FACE)
        if batch:
            over["train.batch_size"] = batch
        cfg = read_config(CONFIGS[stage], over)
        res = trainer(cfg, resume=False)
        t = [0.0] + [r["seconds"] for r in res["history"]]
        per_step = [b - a for a, b in zip(t, t[1:])]
        bs = int(cfg["train"]["batch_size"])
    wall = time.perf_counter() - t0
    timed = per_step[1:] or per_step
    step_s = statistics.median(timed)
    return {"stage": stage, "steps": steps, "batch_size": bs, "step_s": round(step_s, 4),
            "steps_per_s": round(1 / step_s, 4), "examples_per_s": round(bs / step_s, 3),
            "first_step_s": round(per_step[0], 3), "wall_s": round(wall, 1), **_peak(torch.device(device))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stages", nargs="+", default=["tts", "face", "joint"], choices=list(CONFIGS))
    p.add_argument("--preset", choices=("paper", "cpu"), default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=None, help="per-GPU batch (default: the config's)")
    p.add_argument("--amp", choices=("true", "false", "bf16"), default="true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--gpu-hours", action="store_true", help="also print the recipe's GPU-hours at this speed")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    preset = args.preset or ("paper" if device == "cuda" else "cpu")
    amp = {"true": True, "false": False, "bf16": "bf16"}[args.amp]
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    results = []
    with tempfile.TemporaryDirectory(prefix="train_throughput_") as tmp:
        for stage in args.stages:
            r = run_stage(stage, preset, device, args.steps, args.batch_size, amp, Path(tmp))
            if args.gpu_hours:
                r["recipe_steps"] = RECIPE_STEPS[stage]
                r["recipe_gpu_hours_8x"] = round(RECIPE_STEPS[stage] * r["step_s"] * RECIPE_GPUS / 3600, 1)
            results.append(r)
            mem = r.get("peak_gpu_mib", r.get("peak_rss_mib"))
            print(f"{stage:5s} [{preset}, {device}] batch {r['batch_size']}: {r['step_s']:.3f} s/step "
                  f"({r['steps_per_s']:.3f} steps/s, {r['examples_per_s']:.2f} examples/s), first step "
                  f"{r['first_step_s']:.1f} s, peak {'GPU' if device == 'cuda' else 'RSS'} {mem} MiB"
                  + (f"; recipe {r['recipe_steps']} steps -> {r['recipe_gpu_hours_8x']} GPU-h on 8 GPUs"
                     if args.gpu_hours else ""), flush=True)
    from eval.results import provenance  # git commit and dirty flag, package versions, python, platform
    from ttsf.atomic import atomic_write_json

    record = {"bench": "train_throughput", "preset": preset, "device": device, "amp": args.amp,
              "losses": _losses(), "threads": args.threads, "loadavg_1min": os.getloadavg()[0],
              **provenance(device),
              "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None, "results": results}
    if args.json:
        atomic_write_json(args.json, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
