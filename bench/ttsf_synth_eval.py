"""Score a trained TTSF checkpoint on the synthetic corpus's unseen identities (offline backends).

    python -m bench.ttsf_synth_eval --checkpoint runs/joint_synth_64/ttsf.pt [--corpus default]
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

Writes ``<out>/results.json`` and ``<out>/items.jsonl`` in the harness's results.json schema
(scored through ``eval.run``'s own code: bench/_synth_record.py); the ``diversity`` rows also get
``pose_step`` (see :func:`bench._synth_record.pose_step`). Records worth keeping are committed
under ``results/experiments/ttsf_synth_eval/<name>/`` (see that folder's README).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from bench._synth_record import print_rows, score_rows, unseen_items, write_record
from ttsf.paths import runs_dir

ROWS = ("ttsf", "ground_truth", "still", "reenactment")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--corpus", default="default")
    p.add_argument("--limit", type=int, default=8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path(runs_dir("ttsf_synth_eval")))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import torch

    from eval import results as res
    from eval.synth.cache import default_corpus
    from eval.systems.still import Still
    from eval.systems.ttsf_system import TTSFSystem

    torch.set_num_threads(1)
    started, wall0 = res.now_iso(), time.perf_counter()
    root = default_corpus(args.corpus)
    items, speakers = unseen_items(root, args.limit)
    system = TTSFSystem(checkpoint=str(args.checkpoint), steps=args.steps)
    system.check_ready()
    still = Still()
    samples, timing = _generate(args, root, items, system, still)
    three = ("idsim", "diversity", "lse")
    rows = {"ttsf": {m: samples["ttsf"] for m in three}, "ground_truth": {m: samples["ground_truth"] for m in three},
            "still": {"lse": samples["still"]}, "reenactment": {m: samples["reenactment"] for m in three}}
    agg, plans = score_rows(rows, args.seed)
    generation = {"n": len(items), "ok": len(items), "failed": 0}
    systems = {
        "ttsf": {"config": system.config(), "provenance": system.provenance(), "produces": ["video", "audio"],
                 "speech_source": system.speech_source, "generation": generation},
        "ground_truth": {"config": {}, "provenance": {}, "produces": ["video", "audio"], "speech_source": "gt",
                         "generation": generation},
        "still": {"config": still.config(), "provenance": still.provenance(), "produces": ["video", "audio"],
                  "speech_source": still.speech_source, "generation": generation},
        "reenactment": {"config": {"method": "TTSF.reenact: motion from the ground-truth frames, lip feature "
                                             "from the ground-truth speech"},
                        "provenance": {}, "produces": ["video"], "speech_source": "gt", "generation": generation},
    }
    config = {"checkpoint": str(args.checkpoint), "checkpoint_sha256": system.checkpoint_sha256(),
              "corpus": args.corpus, "limit": args.limit, "steps": args.steps, "seed": args.seed,
              "out": str(args.out)}
    results = write_record(args.out, run_id=f"ttsf_synth_eval-{config['checkpoint_sha256'][:10]}-n{len(items)}",
                           table="ttsf_synth_eval", agg=agg, plans=plans, items=items, speakers=speakers, root=root,
                           config=config, seed=args.seed, systems=systems, timing=timing, started=started,
                           wall0=wall0)
    print(f"{len(items)} items of unseen identities {speakers}; generation {timing['generation_s']:.0f} s")
    print_rows(results)
    print(f"record: {args.out / 'results.json'}, {args.out / 'items.jsonl'}")
    return 0


def _generate(args, root: Path, items: list, system, still) -> tuple[dict[str, list], dict]:
    """Samples of every row (TTSF, ground truth, still, self-reenactment) and the generation times."""
    from eval.metrics.sample import Sample
    from eval.systems.base import Context
    from eval.systems.inputs import source_image
    from ttsf import media
    from ttsf.face.align import prepare_source
    from ttsf.train.av_data import resize_frames

    model = system.model()
    size = model.cfg.face.size
    rows: dict[str, list] = {row: [] for row in ROWS}
    reenact_seconds = 0.0
    t0 = time.time()
    for it in items:
        src = source_image(it, root)
        out = system.generate(it, Context(root, args.out / "ttsf", args.seed))
        st = still.generate(it, Context(root, args.out / "still", args.seed))
        ref_v, ref_a = root / it.ref_video, root / it.ref_audio
        rows["ttsf"].append(Sample(it.id, gen_video=out.video, gen_audio=out.audio, ref_video=ref_v, ref_audio=ref_a,
                                   source_image=src, text=it.text))
        rows["still"].append(Sample(it.id, gen_video=st.video, gen_audio=st.audio, source_image=src, text=it.text))
        rows["ground_truth"].append(Sample(it.id, gen_video=ref_v, gen_audio=ref_a, source_image=src, text=it.text))
        t1 = time.time()
        wav = media.read_audio(ref_a)
        portrait = prepare_source(src, size, template=model.cfg.align_template)
        frames = model.reenact(it.text, portrait, resize_frames(media.read_video(ref_v).frames, size), wav)
        path = args.out / "reenact" / f"{it.id.replace('/', '_')}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        media.write_video(path, frames, fps=model.cfg.fps, audio=wav)
        reenact_seconds += time.time() - t1
        rows["reenactment"].append(Sample(it.id, gen_video=path, gen_audio=ref_a, source_image=src, text=it.text))
    gen_seconds = time.time() - t0 - reenact_seconds
    return rows, {"generation_s": round(gen_seconds, 1), "reenactment_s": round(reenact_seconds, 1)}


if __name__ == "__main__":
    raise SystemExit(main())
