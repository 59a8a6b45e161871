"""Score a trained TTSF checkpoint on the synthetic corpus's unseen identities (offline backends).

    python bench/ttsf_synth_eval.py --checkpoint runs/joint_synth_64/ttsf.pt [--corpus default]
                                    [--limit 8] [--steps 10] [--out runs/ttsf_synth_eval]

For each test item whose speaker is absent from the training manifest (one-shot: the
item's source frame + its text), TTSF generates speech + video. Reported (every value
with its backend; a metric that cannot run is reported missing with its reason):

* ID-SIM of generated frames to the source (``idsim``, backend ``sface``),
* diversity (``diversity``, backend ``whenet``) of TTSF and of the ground-truth clips,
* LSE-C / LSE-D (``lse``, backend ``syncnet_offline``) of TTSF and of the ``still``
  baseline (source image held still over the ground-truth speech),
* the same three for a self-reenactment (:meth:`ttsf.TTSF.reenact`: the source rendered
  with the motion E_m reads from the ground-truth frames and the lip feature of the
  ground-truth speech), which separates what the generator can render from what the
  motion sampler and the TTS produce.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def score(metric_name: str, backend: str, samples: list) -> dict:
    """Corpus value and per-item values, or the reason the metric could not run.

    For ``diversity`` also ``pose_step``: the mean absolute frame-to-frame change of the head-pose
    angles (degrees per frame, over yaw/pitch/roll), which tells smooth head motion from jitter
    (the std over time, which diversity is, cannot).
    """
    from eval.metrics import REGISTRY as METRICS  # noqa: N811
    from eval.metrics.base import ItemError
    from ttsf.weights.errors import MissingWeights

    try:
        metric = METRICS.get(metric_name)(backend=backend)
        per_item, failed = {}, {}
        for s in samples:
            try:
                per_item[s.id] = dict(metric.update(s))
            except ItemError as exc:
                failed[s.id] = exc.reason
                continue
            if metric_name == "diversity":
                angles, _ = metric.pose_track(s)  # cached on the sample by update()
                per_item[s.id]["pose_step"] = float(np.mean(np.abs(np.diff(angles, axis=0))))
        value = dict(metric.compute()) if per_item else None
        if value is not None and metric_name == "diversity":
            value["pose_step"] = float(np.mean([v["pose_step"] for v in per_item.values()]))
        return {"metric": metric_name, "backend": backend, "value": value, "items": per_item, "failed": failed}
    except (MissingWeights, FileNotFoundError, ImportError) as exc:
        return {"metric": metric_name, "backend": backend, "value": None, "missing": str(exc)}


def unseen_items(root: Path, limit: int) -> tuple[list, list[str]]:
    """The first ``limit`` test items whose speaker is absent from the training manifest, with
    identities interleaved (so a small limit still covers every unseen identity), and those
    identities."""
    from ttsf.data.manifest import load_manifest

    train_speakers = {it.speaker for it in load_manifest(root / "synth_train.jsonl")}
    test = sorted((it for it in load_manifest(root / "synth_test.jsonl") if it.speaker not in train_speakers),
                  key=lambda it: it.id)
    by_spk: dict = {}
    for it in test:
        by_spk.setdefault(it.speaker, []).append(it)
    order = [it for group in zip(*by_spk.values()) for it in group] or test
    return order[:limit], sorted(by_spk)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--corpus", default="default")
    p.add_argument("--limit", type=int, default=8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/ttsf_synth_eval"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import torch

    from eval.metrics.sample import Sample
    from eval.synth.cache import default_corpus
    from eval.systems.base import Context
    from eval.systems.inputs import source_image
    from eval.systems.still import Still
    from eval.systems.ttsf_system import TTSFSystem

    torch.set_num_threads(1)
    root = default_corpus(args.corpus)
    items, speakers = unseen_items(root, args.limit)
    system = TTSFSystem(checkpoint=str(args.checkpoint), steps=args.steps)
    system.check_ready()
    still = Still()
    from ttsf import media
    from ttsf.face.align import prepare_source
    from ttsf.train.av_data import resize_frames

    model = system.model()
    size = model.cfg.face.size
    gen, base, gt, reen = [], [], [], []
    reenact_seconds = 0.0
    t0 = time.time()
    for it in items:
        src = source_image(it, root)
        out = system.generate(it, Context(root, args.out / "ttsf", args.seed))
        st = still.generate(it, Context(root, args.out / "still", args.seed))
        ref_v, ref_a = root / it.ref_video, root / it.ref_audio
        gen.append(Sample(it.id, gen_video=out.video, gen_audio=out.audio, ref_video=ref_v, ref_audio=ref_a,
                          source_image=src, text=it.text))
        base.append(Sample(it.id, gen_video=st.video, gen_audio=st.audio, source_image=src, text=it.text))
        gt.append(Sample(it.id, gen_video=ref_v, gen_audio=ref_a, source_image=src, text=it.text))
        t1 = time.time()
        wav = media.read_audio(ref_a)
        portrait = prepare_source(src, size, template=model.cfg.align_template)
        frames = model.reenact(it.text, portrait, resize_frames(media.read_video(ref_v).frames, size), wav)
        path = args.out / "reenact" / f"{it.id.replace('/', '_')}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        media.write_video(path, frames, fps=model.cfg.fps, audio=wav)
        reenact_seconds += time.time() - t1
        reen.append(Sample(it.id, gen_video=path, gen_audio=ref_a, source_image=src, text=it.text))
    gen_seconds = time.time() - t0 - reenact_seconds
    results = {
        "checkpoint": str(args.checkpoint), "checkpoint_sha256": system.checkpoint_sha256(),
        "corpus": str(root), "unseen_speakers": speakers, "items": [it.id for it in items],
        "steps": args.steps, "seed": args.seed, "generation_seconds": round(gen_seconds, 1),
        "reenactment_seconds": round(reenact_seconds, 1),
        "ttsf": {"idsim": score("idsim", "sface", gen), "diversity": score("diversity", "whenet", gen),
                 "lse": score("lse", "syncnet_offline", gen)},
        "ground_truth": {"idsim": score("idsim", "sface", gt), "diversity": score("diversity", "whenet", gt),
                         "lse": score("lse", "syncnet_offline", gt)},
        "still": {"lse": score("lse", "syncnet_offline", base)},
        "reenactment": {"idsim": score("idsim", "sface", reen), "diversity": score("diversity", "whenet", reen),
                        "lse": score("lse", "syncnet_offline", reen)},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"{len(items)} items of unseen identities {speakers}; generation {gen_seconds:.0f} s")
    print_rows(results, ("ttsf", "ground_truth", "still", "reenactment"))
    return 0


def print_rows(results: dict, rows) -> None:
    """One line per row and metric: the value or why it is missing."""
    width = max(len(r) for r in rows)
    for row in rows:
        for name, r in results[row].items():
            if r["value"] is None:
                print(f"  {row:{width}s} {name:9s} [{r['backend']}] missing: {r.get('missing') or r.get('failed')}")
            else:
                vals = {k: round(v, 4) for k, v in r["value"].items()}
                print(f"  {row:{width}s} {name:9s} [{r['backend']}] {vals}  failed items: {len(r['failed'])}")


if __name__ == "__main__":
    raise SystemExit(main())
