"""Real-time factor of TTS inference (text -> 16 kHz waveform) with a per-stage breakdown.

    python -m bench.tts_rtf [--threads 2 --steps 10 --repeat 3 --config paper|synth --device cpu]

Paper-size model (Matcha sizes, face condition of 512) with seeded random weights;
the duration predictor's bias is set so tokens last 4 mel frames on average
(≈ 12 phonemes/s with blanks), giving realistic utterance lengths. Stages: front-end
(normalise + espeak-ng + ids), encoder + durations, CFM decoder (``--steps`` Euler
steps), vocoder (bundled TorchScript HiFi-GAN). RTF = wall seconds / seconds
of audio (lower is faster); ``cpu_seconds_per_audio_second`` is process CPU time (all
threads) per audio second, which a busy shared machine inflates much less than wall
time (with ``--threads N`` on an idle machine, wall RTF is between cpu/N and cpu). Prints JSON, including the
1-minute load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import torch

TEXTS = (
    "The garden path is lined with lavender, and the bees are busy all summer long.",
    "Please remember to bring the blue folder to the meeting on Thursday afternoon.",
    "She walked along the river until the sun went down behind the old stone bridge.",
)


def main(argv=None) -> int:
    from ttsf.tts.config import TTSConfig
    from ttsf.tts.model import TTS
    from ttsf.tts.text import Frontend
    from ttsf.vocoder import load_vocoder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = TTSConfig(cond_mode="face", cond_dim=512)
    model = TTS(cfg).eval().to(args.device)
    with torch.no_grad():
        model.duration.proj.bias.fill_(math.log(4.0))
        model.duration.proj.weight.mul_(0.01)
    vocoder = load_vocoder("hifigan-ts", device=args.device)
    frontend = Frontend()
    cond = torch.randn(1, 512, device=args.device)
    load_before = os.getloadavg()[0]

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    stages = {"frontend": 0.0, "encoder": 0.0, "decoder": 0.0, "vocoder": 0.0}
    cpu = dict(stages)  # process CPU seconds (all threads): robust to a shared machine
    audio = 0.0
    for r in range(args.repeat + 1):  # first round is a warm-up, not counted
        for text in TEXTS:
            c0 = time.process_time()
            t0 = time.perf_counter()
            frontend._phonemise.cache_clear()
            tokens = frontend(text)
            t1, c1 = time.perf_counter(), time.process_time()
            x = torch.tensor([tokens], device=args.device)
            xl = torch.tensor([len(tokens)], device=args.device)
            with torch.inference_mode():
                # encoder + durations alone, then the full synthesis (minus the encoder time) = decoder
                model._encode(x, xl, cond)
                sync()
                t2, c2 = time.perf_counter(), time.process_time()
                out = model.synthesise(x, xl, cond, n_steps=args.steps, generator=torch.Generator().manual_seed(0))
                sync()
                t3, c3 = time.perf_counter(), time.process_time()
                wav = vocoder(out["mel"])
                sync()
                t4, c4 = time.perf_counter(), time.process_time()
            if r == 0:
                continue
            stages["frontend"] += t1 - t0
            stages["encoder"] += t2 - t1
            stages["decoder"] += (t3 - t2) - (t2 - t1)
            stages["vocoder"] += t4 - t3
            cpu["frontend"] += c1 - c0  # espeak-ng runs in a subprocess: not counted here
            cpu["encoder"] += c2 - c1
            cpu["decoder"] += (c3 - c2) - (c2 - c1)
            cpu["vocoder"] += c4 - c3
            audio += wav.shape[-1] / vocoder.sample_rate
    total = sum(stages.values())
    res = {
        "model": "paper-size (Matcha sizes), random weights",
        "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
        "device": args.device, "threads": args.threads, "steps": args.steps, "utterances": args.repeat * len(TEXTS),
        "audio_s": round(audio, 2), "rtf": round(total / audio, 4),
        "rtf_by_stage": {k: round(v / audio, 4) for k, v in stages.items()},
        "cpu_seconds_per_audio_second": round(sum(cpu.values()) / audio, 4),
        "cpu_by_stage": {k: round(v / audio, 4) for k, v in cpu.items()},
        "load_avg_1min_before": load_before, "load_avg_1min_after": os.getloadavg()[0],
        "cpu_count": os.cpu_count(), "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
    }
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
