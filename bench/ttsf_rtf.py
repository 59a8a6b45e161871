"""End-to-end real-time factor of TTSF (speech + video) with a per-stage breakdown.

    python -m bench.ttsf_rtf [--sizes 64 128 256] [--threads 2] [--repeats 3] [--device auto|cpu|cuda]
                              [--serial] [--checkpoint ttsf.pt] [--json out.json]

RTF = wall time / duration of the produced speech (lower is faster; < 1 is faster than
real time). CPU time (all threads) and the 1-minute load average are recorded too: on a
shared machine wall time is inflated by other processes. Without ``--checkpoint`` the model has the paper's sizes
(TTS: Matcha-TTS sizes; face: LIA/StyleGAN2 channels 64..512 at the chosen image size; motion sampler
defaults) and seeded random weights, with the duration predictor's output fixed to
``--frames-per-token`` mel frames per token so the speech length is realistic; timing
does not depend on the weights otherwise. The first call (vocoder load, allocations) is
a warm-up and is not timed. Stages: align (YuNet + warp), face_encode (E_v, E_m), tts
(encoder + 10-step CFM decoder), vocoder (HiFi-GAN), audio_mapper, motion_sampler
(prior + 10-step CFM + normaliser), render (G on every frame). After the motion sampler, two
threads share the vocoder (two time pieces) and the render (16-frame chunks); their times are
summed over both threads, so the stages add up to more than the total (``--serial``: one
after the other in one thread).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch

TEXT = "The quick brown fox jumps over the lazy dog."


def portrait_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("insightface")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "images" / "Tom_Hanks_54745.png"


def paper_model(size: int, frames_per_token: float, device: str):
    from ttsf.model import TTSF, TTSFConfig

    torch.manual_seed(0)
    cfg = TTSFConfig.from_dict({"face": {"size": size}, "tts": {"mel_mean": -6.0, "mel_std": 2.5}})
    model = TTSF(cfg)
    with torch.no_grad():
        model.tts.duration.proj.weight.zero_()
        model.tts.duration.proj.bias.fill_(math.log(frames_per_token))
    return model.to(device).eval()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (ttsf.synthesize default)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--device", default="auto", help="auto: cuda:LOCAL_RANK when a GPU is visible, else cpu")
    p.add_argument("--checkpoint", type=Path, default=None, help="time a trained checkpoint instead")
    p.add_argument("--frames-per-token", type=float, default=2.6)
    p.add_argument("--text", default=TEXT)
    p.add_argument("--serial", action="store_true", help="vocoder, then render, in one thread")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from ttsf.devices import local_device
    from ttsf.face.align import prepare_source

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    args.device = str(local_device(args.device))  # cuda -> cuda:LOCAL_RANK
    cuda = args.device.startswith("cuda")

    results = []
    models = ([(None, None)] if args.checkpoint else [(s, None) for s in args.sizes])
    for size, _ in models:
        if args.checkpoint:
            from ttsf.model import TTSF

            model = TTSF.load(args.checkpoint, map_location=args.device)
            size = model.cfg.face.size
        else:
            model = paper_model(size, args.frames_per_token, args.device)
        n_params = {k: sum(p.numel() for p in getattr(model, k).parameters())
                    for k in ("tts", "face", "mapper", "sampler")}
        image = prepare_source(portrait_path(), 512)
        model.synthesize("Warm up.", image, seed=0, steps=args.steps, overlap=not args.serial)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        runs = []
        for r in range(args.repeats):
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            out = model.synthesize(args.text, image, seed=r, steps=args.steps, overlap=not args.serial)
            if cuda:
                torch.cuda.synchronize()
            total, cpu = time.perf_counter() - t0, time.process_time() - c0
            runs.append({"total_s": total, "cpu_total_s": cpu, "loadavg_1min": load,
                         "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
                         "audio_s": out.info["duration_s"], "frames": out.info["n_frames"],
                         **{f"{k}_s": v for k, v in out.timings.items()}})
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if runs[0][k] is not None}
        rtf = {k[:-2]: med[k] / med["audio_s"] for k in med if k.endswith("_s") and k != "audio_s"}
        if cuda:
            print(f"peak GPU memory {med['peak_gpu_mib']:.0f} MiB")
        rtf["cpu_total"] = med["cpu_total_s"] / med["audio_s"]
        results.append({"size": size, "params": n_params, "median": med, "rtf": rtf, "runs": runs})
        print(f"\n{size} px: {med['audio_s']:.2f} s of speech, {int(med['frames'])} frames; "
              f"total {med['total_s']:.2f} s -> RTF {rtf['total']:.3f} (median of {args.repeats}); "
              f"CPU time {med['cpu_total_s']:.1f} s (RTF {rtf['cpu_total']:.3f}); "
              f"1-min load avg {med['loadavg_1min']:.1f}")
        for stage in ("align", "face_encode", "tts", "vocoder", "audio_mapper", "motion_sampler", "render"):
            print(f"  {stage:15s} {med[stage + '_s']:8.3f} s   RTF {rtf[stage]:.4f}")
        print("  params: " + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in n_params.items()))
    from eval.results import provenance  # git commit and dirty flag, package versions, python, platform
    from ttsf.atomic import atomic_write_json

    record = {"bench": "ttsf_rtf", "text": args.text, "threads": args.threads, "device": args.device,
              "steps": args.steps, "overlap": not args.serial,
              "checkpoint": str(args.checkpoint) if args.checkpoint else None,
              "frames_per_token": None if args.checkpoint else args.frames_per_token,
              **provenance(args.device),
              "cpu": platform.processor() or platform.machine(),
              "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
              "results": results}
    if args.json:
        atomic_write_json(args.json, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
