"""Can a face-branch checkpoint render head pose? Self-reenactment of unseen identities.

    python -m bench.face_reenact_eval --checkpoint runs/face_synth_64_lipnone/face.pt --lip zero
                                      [--corpus default] [--limit 6] [--out runs/face_reenact_eval]

For each test item of an identity absent from the training manifest (the items of
``bench.ttsf_synth_eval``), the source frame, aligned as TTSF aligns portraits, is rendered
with the motion E_m reads from the item's ground-truth frames (resized to the model's size).
The lip layers get ``f_id + f_m`` (``--lip motion``: how a ``lip_input: f_m`` warm-up was
trained) or ``f_id + 0`` (``--lip zero``: a ``lip_input: none`` warm-up, or the first step of a
joint stage whose audio mapper starts at zero). Reported: head-pose diversity (``diversity``,
backend ``whenet``) and ID-SIM to the source (``idsim``, ``sface``) of the reenactment, and the
diversity of the ground truth resized to the model's size and back (what the metric can see at
that size). Accepts a face-stage checkpoint (``face.pt``/``last.pt``) or a joint TTSF
checkpoint (its face branch; ``--lip zero`` then leaves out the audio mapper).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from bench._synth_record import print_rows, score_rows, unseen_items, write_record
from ttsf.paths import runs_dir


def load_face_branch(path: Path):
    """The face branch of a face-stage or joint checkpoint (``torch.load(weights_only=True)``)."""
    import torch

    from ttsf.face.config import FaceConfig
    from ttsf.face.model import FaceBranch

    blob = torch.load(path, map_location="cpu", weights_only=True)
    if "face_config" in blob:
        face = FaceBranch(FaceConfig.from_dict(blob["face_config"]))
        face.load_state_dict(blob["model"])
        return face.eval(), None
    from ttsf.model import TTSF

    model = TTSF.load(path)
    return model.face.eval(), model.cfg.align_template


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--lip", choices=("motion", "zero"), required=True)
    p.add_argument("--corpus", default="default")
    p.add_argument("--limit", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path(runs_dir("face_reenact_eval")))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import torch

    from eval import results as res
    from eval.metrics.sample import Sample
    from eval.synth.cache import default_corpus
    from eval.systems.inputs import source_image
    from ttsf import media
    from ttsf.face.align import prepare_source
    from ttsf.hashing import sha256_file
    from ttsf.model import to_image_tensor, to_uint8
    from ttsf.train.av_data import resize_frames

    torch.set_num_threads(args.threads)
    started, wall0 = res.now_iso(), time.perf_counter()
    root = default_corpus(args.corpus)
    items, speakers = unseen_items(root, args.limit)
    face, template = load_face_branch(args.checkpoint)
    size = face.cfg.size
    reen, gt = [], []
    for it in items:
        src = source_image(it, root)
        frames = resize_frames(media.read_video(root / it.ref_video).frames, size)
        portrait = prepare_source(src, size) if template is None else prepare_source(src, size, template=template)
        with torch.inference_mode():
            f_m = torch.cat([face.motion_of(to_image_tensor(frames[s:s + 32])) for s in range(0, len(frames), 32)])
            f_m = f_m[None]
            f_lip = torch.zeros_like(f_m) if args.lip == "zero" else None
            video = to_uint8(face.animate(face.encode(to_image_tensor(portrait)), f_m, f_lip)[0])
        stem = it.id.replace("/", "_")
        path = media.write_video(args.out / "reenact" / f"{stem}.mp4", video, fps=25)
        reen.append(Sample(it.id, gen_video=path, source_image=src))
        gt_path = media.write_video(args.out / f"ground_truth_{size}px" / f"{stem}.mp4", frames, fps=25)
        gt.append(Sample(it.id, gen_video=gt_path, source_image=src))
    gt_row = f"ground_truth_{size}px"
    agg, plans = score_rows({"reenactment": {"diversity": reen, "idsim": reen}, gt_row: {"diversity": gt}}, 0)
    config = {"checkpoint": str(args.checkpoint), "checkpoint_sha256": sha256_file(args.checkpoint), "lip": args.lip,
              "size": size, "corpus": args.corpus, "limit": args.limit, "out": str(args.out)}
    generation = {"n": len(items), "ok": len(items), "failed": 0}
    systems = {"reenactment": {"config": {"method": f"face branch self-reenactment, lip layers: {args.lip}"},
                               "provenance": {}, "produces": ["video"], "speech_source": "none",
                               "generation": generation},
               gt_row: {"config": {"method": f"ground truth resized to {size} px and back"}, "provenance": {},
                        "produces": ["video"], "speech_source": "none", "generation": generation}}
    results = write_record(args.out, run_id=f"face_reenact_eval-{config['checkpoint_sha256'][:10]}-{args.lip}",
                           table="face_reenact_eval", agg=agg, plans=plans, items=items, speakers=speakers,
                           root=root, config=config, seed=0, systems=systems, timing={}, started=started, wall0=wall0)
    print(f"{len(items)} items of unseen identities {speakers}; {args.checkpoint} (lip layers: {args.lip})")
    print_rows(results)
    print(f"record: {args.out / 'results.json'}, {args.out / 'items.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
