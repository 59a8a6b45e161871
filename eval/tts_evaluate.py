"""Check a trained TTS checkpoint on held-out sentences of its training voices.

    python -m eval.tts_evaluate --checkpoint CKPT --test-manifest M --train-manifest M --root DIR
        [--per-speaker 6 --steps 10 --seed 0 --out results.json]

For every training speaker, the held-out test items of that speaker (sentences not
seen in training) are synthesised. Reports:

- WER: faster-whisper base (offline, int8, beam 5, temperature 0), Whisper's
  EnglishTextNormalizer on both sides, corpus-level (micro) WER via jiwer; the same
  for the real recordings of those items (the ceiling for this ASR);
- speaker similarity: Resemblyzer d-vectors; each speaker's centroid over its
  training recordings; an item is ranked first when its cosine to the intended
  speaker's centroid is the highest among all training speakers.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _asr():
    from eval.metrics.asr.faster_whisper_ct2 import CT2Transcriber
    from ttsf.weights.store import locate

    model_dir = locate("whisper_base_ct2")
    return CT2Transcriber(model_dir if model_dir.is_dir() else model_dir.parent, threads=1), str(model_dir)


def corpus_wer(refs: list[str], hyps: list[str]) -> float:
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    r, h = [norm(x) for x in refs], [norm(x) for x in hyps]
    return float(jiwer.wer(r, h))


def evaluate(checkpoint: Path, test_manifest: Path, train_manifest: Path, root: Path, per_speaker: int = 6,
             steps: int = 10, seed: int = 0, out_dir: Path | None = None) -> dict:
    from resemblyzer import VoiceEncoder, preprocess_wav

    from ttsf.data.manifest import load_manifest, resolve
    from ttsf.media import read_audio, write_audio
    from ttsf.tts.synthesize import Synthesizer

    synth = Synthesizer(checkpoint)
    speakers = synth.speakers
    test = [it for it in load_manifest(test_manifest) if it.speaker in speakers and it.text]
    chosen = []
    for s in speakers:
        chosen += [it for it in test if it.speaker == s][:per_speaker]
    encoder = VoiceEncoder("cpu", verbose=False)
    centroids = {}
    train = defaultdict(list)
    for it in load_manifest(train_manifest):
        if it.speaker in speakers and it.ref_audio:
            train[it.speaker].append(it)
    for s in speakers:
        embs = [encoder.embed_utterance(preprocess_wav(read_audio(resolve(root, it.ref_audio)), 16000))
                for it in train[s][:8]]
        c = np.mean(embs, axis=0)
        centroids[s] = c / np.linalg.norm(c)
    asr, asr_dir = _asr()
    rows, t0 = [], time.time()
    for it in chosen:
        res = synth(it.text, speaker=it.speaker, n_steps=steps, seed=seed)
        if out_dir is not None:
            write_audio(out_dir / f"{it.id.replace('/', '_')}.wav", res.wav)
        hyp = asr.transcribe(res.wav)
        real = read_audio(resolve(root, it.ref_audio))
        hyp_real = asr.transcribe(real)
        e = encoder.embed_utterance(preprocess_wav(res.wav, 16000))
        sims = {s: float(np.dot(e, c) / np.linalg.norm(e)) for s, c in centroids.items()}
        rank = sorted(sims, key=sims.get, reverse=True).index(it.speaker) + 1
        rows.append({"id": it.id, "speaker": it.speaker, "text": it.text, "hyp": hyp, "hyp_real": hyp_real,
                     "sim_intended": sims[it.speaker],
                     "sim_best_other": max((v for k, v in sims.items() if k != it.speaker), default=None),
                     "rank": rank, "seconds": len(res.wav) / 16000})
        log.info("%s rank %d sim %.3f | %s | %s", it.id, rank, sims[it.speaker], it.text, hyp)
    return {
        "checkpoint": str(checkpoint), "items": len(rows), "speakers": speakers, "steps": steps, "seed": seed,
        "wer_synth": corpus_wer([r["text"] for r in rows], [r["hyp"] for r in rows]),
        "wer_real": corpus_wer([r["text"] for r in rows], [r["hyp_real"] for r in rows]),
        "wer_by_speaker": {s: {"synth": corpus_wer([r["text"] for r in rows if r["speaker"] == s],
                                                   [r["hyp"] for r in rows if r["speaker"] == s]),
                               "real": corpus_wer([r["text"] for r in rows if r["speaker"] == s],
                                                  [r["hyp_real"] for r in rows if r["speaker"] == s])}
                           for s in speakers if any(r["speaker"] == s for r in rows)},
        "speaker_rank1": float(np.mean([r["rank"] == 1 for r in rows])),
        "sim_intended_mean": float(np.mean([r["sim_intended"] for r in rows])),
        "sim_best_other_mean": (float(np.mean([r["sim_best_other"] for r in rows])) if len(speakers) > 1 else None),
        "asr": {"backend": "faster-whisper base int8 beam 5", "model_dir": asr_dir},
        "speaker_encoder": "resemblyzer 0.1.4 GE2E d-vector, centroid of 8 training recordings",
        "minutes": (time.time() - t0) / 60, "rows": rows,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.tts_evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--test-manifest", type=Path, required=True)
    ap.add_argument("--train-manifest", type=Path, required=True)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--per-speaker", type=int, default=6)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wav-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    import torch

    torch.set_num_threads(1)
    if args.wav_dir:
        args.wav_dir.mkdir(parents=True, exist_ok=True)
    res = evaluate(args.checkpoint, args.test_manifest, args.train_manifest, args.root, args.per_speaker,
                   args.steps, args.seed, args.wav_dir)
    if args.out:
        args.out.write_text(json.dumps(res, indent=1))
    print(json.dumps({k: v for k, v in res.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
