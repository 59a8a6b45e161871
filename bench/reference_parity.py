"""The suite beside the reference tools it replaces: same inputs, same weights, one run.

For each pair, times both sides and reports the numbers' difference against the parity
tolerance already pinned by the tests in ``tests/eval/metrics/``:

- **FID**: pytorch-fid's documented use (frames dumped to PNG,
  ``pytorch_fid.fid_score.calculate_fid_given_paths``) vs the suite's FID from the mp4
  files, on two ``tests/data/real_av`` clips; seeded random FID-Inception weights (the
  official file cannot be downloaded here) saved where pytorch-fid looks for them, as in
  ``test_parity_with_pytorch_fid``. Tolerance 1e-3 relative.
- **LSE**: syncnet_python's ``SyncNetInstance.evaluate`` on its crop folder (JPEG crops +
  16 kHz wav) vs the suite's LSE functions on the same crops and audio; the crops are the
  suite's own face-track crops of a real clip; seeded random SyncNet weights, as in
  ``test_parity_with_syncnet_python_instance``. Tolerance: same offset, 1e-4 on LSE-C/D.
- **WER**: openai-whisper ``transcribe`` vs the suite's WER (backend ``whisper``) with the
  same seeded random tiny checkpoint, on synthetic test clips. Tolerance: identical text.
- **MCD**: pymcd ``Calculate_MCD(MCD_mode="dtw").calculate_mcd`` vs the suite's MCD on
  pairs of synthetic test clips of different voices. Tolerance 1e-9 relative.

    python -m bench.reference_parity [--quick]

Writes ``results/bench/reference_parity-<utc>.json``. Exit status 1 when a difference
exceeds its tolerance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REAL_AV = REPO / "tests" / "data" / "real_av"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 3)


def _row(name, inputs, suite, suite_s, reference, reference_s, diff, tolerance, extra=None) -> dict:
    row = {"pair": name, "inputs": inputs, "suite": suite, "suite_s": suite_s, "reference": reference,
           "reference_s": reference_s, "difference": diff, "tolerance": tolerance, "within": bool(diff <= tolerance)}
    row.update(extra or {})
    print(f"{name:5s} suite {suite!s:>22.22s} in {suite_s:7.2f} s | reference {reference!s:>22.22s} in "
          f"{reference_s:7.2f} s | diff {diff:.2e} (tol {tolerance:g}) {'ok' if row['within'] else 'FAIL'}", flush=True)
    return row


def fid_pair(tmp: Path, frame_stride: int) -> dict:
    from PIL import Image
    from pytorch_fid.fid_score import calculate_fid_given_paths

    from eval.metrics import visual
    from eval.metrics.fid import FID
    from eval.metrics.nets.reference import save_random_fid_inception
    from eval.metrics.sample import Sample

    weights = save_random_fid_inception(tmp / "torch")
    os.environ["TORCH_HOME"] = str(tmp / "torch")
    clips = sorted(REAL_AV.glob("*.mp4"))[:2]
    sample = Sample("a", gen_video=clips[0], ref_video=clips[1])
    metric = FID("pytorch-fid", weights=weights, frame_stride=frame_stride, bootstrap=0)

    def suite():
        metric.update(sample)
        return metric.compute()["fid"]

    ours, ours_s = _timed(suite)
    dirs, t0 = [], time.perf_counter()
    for field in ("gen_video", "ref_video"):  # the very frames the suite decoded
        folder = tmp / field
        folder.mkdir()
        for i, frame in enumerate(visual.frames(sample, field)[::frame_stride]):
            Image.fromarray(frame).save(folder / f"{i:05d}.png")
        dirs.append(str(folder))
    dump_s = round(time.perf_counter() - t0, 3)
    reference, ref_s = _timed(lambda: calculate_fid_given_paths(dirs, batch_size=32, device="cpu", dims=2048,
                                                               num_workers=0))
    return _row("fid", [c.name for c in clips] + [f"frame_stride {frame_stride}", f"{metric.info['n_gen']} frames"],
                float(ours), ours_s, float(reference), ref_s, abs(ours - reference) / abs(reference), 1e-3,
                {"png_dump_s": dump_s, "weights": "seeded random FID-Inception (torch.manual_seed(0), BN calibrated)"})


def lse_pair(tmp: Path, seconds: float) -> dict:
    import cv2
    import torch
    from scipy.io import wavfile

    from eval.metrics import visual
    from eval.metrics.audio import audio
    from eval.metrics.functional.lse import lse_from_distances, offset_distances, syncnet_embeddings
    from eval.metrics.nets.reference import syncnet_reference_module
    from eval.metrics.sample import Sample
    from ttsf.pretrained.syncnet import load_syncnet

    reference_cls = syncnet_reference_module("SyncNetInstance").SyncNetInstance
    torch.manual_seed(0)
    reference_net = syncnet_reference_module("SyncNetModel").S()
    weights = tmp / "syncnet_random.model"
    torch.save(reference_net.state_dict(), weights)
    clip = sorted(REAL_AV.glob("*.mp4"))[0]
    sample = Sample("a", gen_video=clip)
    n = int(seconds * visual.VIDEO_FPS)
    crops = visual.syncnet_crops(sample, "gen_video", "yunet")[:n]
    wav = np.clip(audio(sample, "gen_audio" if sample.gen_audio else "gen_video", visual.SAMPLE_RATE), -1, 1)
    pcm = (wav[: n * 640] * 32767).astype(np.int16)
    crop_dir = tmp / "crops"
    crop_dir.mkdir()
    for i, crop in enumerate(crops):
        cv2.imwrite(str(crop_dir / f"{i:06d}.jpg"), crop)
    wavfile.write(crop_dir / "audio.wav", 16000, pcm)
    opt = types.SimpleNamespace(tmp_dir=str(crop_dir), batch_size=20, vshift=15)
    (ref_offset, ref_conf, ref_dist), ref_s = _timed(lambda: reference_cls(reference_net, device="cpu").evaluate(opt))
    net = load_syncnet(weights)

    def suite():
        jpgs = np.stack([cv2.imread(str(crop_dir / f"{i:06d}.jpg")) for i in range(len(crops))])
        video, aud = syncnet_embeddings(net, jpgs, pcm.astype(np.float64))
        return lse_from_distances(offset_distances(video, aud, 15), 15)

    ours, ours_s = _timed(suite)
    diff = max(abs(ours["lse_c"] - float(ref_conf)), abs(ours["lse_d"] - float(ref_dist)))
    if int(ours["offset"]) != int(ref_offset):
        diff = float("inf")
    return _row("lse", [clip.name, f"{len(crops)} frames"], [round(ours["lse_c"], 5), round(ours["lse_d"], 5)], ours_s,
                [round(float(ref_conf), 5), round(float(ref_dist), 5)], ref_s, diff, 1e-4,
                {"offsets": [int(ours["offset"]), int(ref_offset)],
                 "weights": "seeded random SyncNet (torch.manual_seed(0))"})


def _synthetic(limit: int) -> list:
    from eval.synth import default_corpus
    from ttsf.data.manifest import load_manifest, resolve

    corpus = default_corpus("tiny")
    items = list(load_manifest(corpus / "synth_test.jsonl"))[:limit]
    return [(item, resolve(corpus, item.ref_audio)) for item in items]


def wer_pair(tmp: Path, limit: int) -> dict:
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    from eval.metrics import create
    from eval.metrics.sample import Sample
    from ttsf.media import read_audio

    torch.manual_seed(0)
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
                           n_vocab=51865, n_text_ctx=40, n_text_state=32, n_text_head=2, n_text_layer=1)
    checkpoint = tmp / "random_tiny.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": Whisper(dims).state_dict()}, checkpoint)
    items = _synthetic(limit)
    metric = create("wer", backend="whisper", checkpoint=str(checkpoint))

    def suite():
        for item, wav in items:
            metric.update(Sample(item.id, gen_audio=wav, text=item.text or "x"))
        return dict(metric.transcripts)

    ours, ours_s = _timed(suite)

    def reference():
        model = whisper.load_model(str(checkpoint), device="cpu")
        return {item.id: model.transcribe(read_audio(wav, 16000), language="en", temperature=0.0, beam_size=5,
                                          fp16=False)["text"].strip() for item, wav in items}

    theirs, ref_s = _timed(reference)
    differing = sum(ours[k] != theirs[k] for k in theirs)
    return _row("wer", [item.id for item, _ in items], f"{len(ours)} transcripts", ours_s, f"{len(theirs)} transcripts",
                ref_s, float(differing), 0.0, {"differing_transcripts": differing,
                                               "weights": "seeded random tiny Whisper (torch.manual_seed(0))"})


def mcd_pair(limit: int) -> dict:
    from pymcd.mcd import Calculate_MCD

    from eval.metrics import create
    from eval.metrics.sample import Sample

    items = _synthetic(limit + 1)
    pairs = [(items[i][1], items[i + 1][1]) for i in range(len(items) - 1)]  # neighbouring items: other voices
    metric = create("mcd", mode="dtw")
    ours, ours_s = _timed(lambda: [metric.update(Sample(f"p{i}", gen_audio=g, ref_audio=r))["mcd"]
                                   for i, (r, g) in enumerate(pairs)])
    calc = Calculate_MCD(MCD_mode="dtw")
    theirs, ref_s = _timed(lambda: [calc.calculate_mcd(str(r), str(g)) for r, g in pairs])
    diff = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs))
    return _row("mcd", [f"{r.name}~{g.name}" for r, g in pairs], round(float(np.mean(ours)), 6), ours_s,
                round(float(np.mean(theirs)), 6), ref_s, diff, 1e-9)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer frames and clips (make bench)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, fn in (("fid", lambda: fid_pair(tmp / "fid", 8 if args.quick else 2)),
                         ("lse", lambda: lse_pair(tmp / "lse", 2.0 if args.quick else 6.0)),
                         ("wer", lambda: wer_pair(tmp / "wer", 1 if args.quick else 3)),
                         ("mcd", lambda: mcd_pair(1 if args.quick else 3))):
            (tmp / name).mkdir()
            rows.append(fn())
    report = {"threads": args.threads, "load_before": load_before, "load_after": [round(x, 2) for x in os.getloadavg()],
              "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    out = args.json or REPO / "results" / "bench" / f"reference_parity-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", "utf-8")
    print(f"wrote {out}")
    return 0 if all(r["within"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
