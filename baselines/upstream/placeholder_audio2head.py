"""Random-init placeholder for Audio2Head's ``checkpoints/audio2head.pth.tar`` (TESTS ONLY).

Builds the four networks ``inference.py`` loads (``kp_detector``, ``generator``,
``audio2kp`` from ``config/vox-256.yaml`` + ``config/parameters.yaml``, and
``audio2pose``) from the upstream's own classes, seeded, and saves their state dicts
under the same keys, plus the marker key ``__ttsf_bench_placeholder__``. The harness
refuses a file with that marker unless ``--allow-placeholder`` (tests), and then marks
the row as placeholder: the video is noise, never a result.

    UPSTREAM_PYTHON placeholder_audio2head.py CHECKOUT [--seed N]   # -> CHECKOUT/checkpoints/audio2head.pth.tar
"""

from __future__ import annotations

import argparse
import os

from placeholder_cli import enter_checkout

MARKER = "__ttsf_bench_placeholder__"


def main() -> None:
    a = enter_checkout(chdir=False)
    import torch
    import yaml
    from modules.audio2kp import AudioModel3D
    from modules.audio2pose import audio2poseLSTM
    from modules.generator import OcclusionAwareGenerator
    from modules.keypoint_detector import KPDetector

    torch.manual_seed(a.seed)
    with open(os.path.join(a.checkout, "config", "vox-256.yaml")) as f:
        cfg = yaml.safe_load(f)["model_params"]
    with open(os.path.join(a.checkout, "config", "parameters.yaml")) as f:
        opt = argparse.Namespace(**yaml.safe_load(f))
    nets = {
        "kp_detector": KPDetector(**cfg["kp_detector_params"], **cfg["common_params"]),
        "generator": OcclusionAwareGenerator(**cfg["generator_params"], **cfg["common_params"]),
        "audio2kp": AudioModel3D(opt),
        "audio2pose": audio2poseLSTM(),
    }
    ckpt = {k: v.state_dict() for k, v in nets.items()}
    ckpt[MARKER] = {"upstream": "audio2head", "seed": a.seed, "note": "random init, tests only, never results"}
    out = os.path.join(a.checkout, "checkpoints", "audio2head.pth.tar")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    torch.save(ckpt, out)
    n = sum(t.numel() for sd in nets.values() for t in sd.state_dict().values())
    print(f"placeholder {out}: {n} values in {', '.join(nets)} (seed {a.seed})")


if __name__ == "__main__":
    main()
