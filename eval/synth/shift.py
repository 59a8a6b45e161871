"""Desynchronised copies of a corpus: the same video packets, the audio shifted by whole frames.

``frames > 0`` delays the audio (it starts ``frames / 25`` s late: silence is
prepended and the end is cut); ``frames < 0`` advances it. The video stream is
copied packet for packet, so decoded frames are identical to the source corpus.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from eval.synth.config import SynthError
from ttsf.atomic import atomic_path
from ttsf.data.manifest import load_manifest, resolve, write_manifest
from ttsf.media import add_aac_stream, mux_aac

log = logging.getLogger(__name__)

SAMPLES_PER_FRAME = 640


def shift_audio(audio: np.ndarray, frames: int, samples_per_frame: int = SAMPLES_PER_FRAME) -> np.ndarray:
    """``audio`` ``(samples,)`` moved by ``frames`` video frames, same length, zero-filled."""
    n = int(frames) * samples_per_frame
    out = np.zeros_like(audio)
    if n >= 0:
        if n < audio.shape[0]:
            out[n:] = audio[: audio.shape[0] - n]
    else:
        if -n < audio.shape[0]:
            out[: audio.shape[0] + n] = audio[-n:]
    return out


def remux_with_audio(src_mp4: Path, dst_mp4: Path, audio: np.ndarray, sample_rate: int = 16000) -> None:
    """Copy ``src_mp4``'s video packets into ``dst_mp4`` with ``audio`` encoded as AAC (atomic)."""
    import av

    with atomic_path(dst_mp4, ".mp4") as tmp, av.open(str(src_mp4)) as inp:
        vin = inp.streams.video[0]
        out = av.open(str(tmp), mode="w", format="mp4")
        try:
            vout = out.add_stream_from_template(vin)
            aout = add_aac_stream(out, sample_rate)
            for packet in inp.demux(vin):
                if packet.dts is None:
                    continue
                packet.stream = vout
                out.mux(packet)
            mux_aac(out, aout, audio, sample_rate)
        finally:
            out.close()


def shift_corpus(corpus, frames: int, out_dir) -> Path:
    """Write a copy of ``corpus`` whose audio is shifted by ``frames`` video frames; return its path."""
    from eval.synth.corpus import MANIFESTS, is_complete, write_index
    from ttsf.hashing import sha256_file
    from ttsf.media import read_audio, write_audio

    corpus, out = Path(corpus), Path(out_dir)
    if isinstance(frames, bool) or not isinstance(frames, int):
        raise SynthError(f"frames must be an integer, got {frames!r}")
    if not is_complete(corpus):
        raise SynthError(f"{corpus} is not a complete synthetic corpus (corpus.json and manifests missing)")
    index = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    manifests = {name: load_manifest(corpus / name) for name in MANIFESTS}
    shortest = min((it for m in manifests.values() for it in m), key=lambda it: it.duration)
    if round(shortest.duration * 25) <= abs(frames):
        raise SynthError(f"a shift of {frames} frames is longer than the clip {shortest.id} ({shortest.duration} s)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SynthError(f"output {out} exists and is not an empty directory")
    if out.resolve() == corpus.resolve():
        raise SynthError("the shifted copy must go to another directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SynthError(f"cannot create {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK):
        raise SynthError(f"output directory {out} is not writable")
    shutil.copytree(corpus / "faces", out / "faces")
    for name, manifest in manifests.items():
        for item in manifest:
            src_stem = resolve(corpus, item.ref_video)
            dst_stem = out / item.ref_video
            dst_stem.parent.mkdir(parents=True, exist_ok=True)
            audio = read_audio(src_stem.with_suffix(".wav"))
            shifted = shift_audio(audio, frames)
            write_audio(dst_stem.with_suffix(".wav"), shifted)
            remux_with_audio(src_stem, dst_stem, shifted)
            shutil.copyfile(src_stem.with_suffix(".txt"), dst_stem.with_suffix(".txt"))
            gt = json.loads(src_stem.with_suffix(".json").read_text(encoding="utf-8"))
            gt["av_offset_frames"] = int(frames)
            gt["shifted_from"] = index["content_hash"]
            gt["files"] = {s: sha256_file(dst_stem.with_suffix(f".{s}")) for s in ("mp4", "wav", "txt")}
            dst_stem.with_suffix(".json").write_text(json.dumps(gt, sort_keys=True), encoding="utf-8")
        write_manifest(out / name, list(manifest))
    readme = (corpus / "README.md").read_text(encoding="utf-8")
    (out / "README.md").write_text(
        readme + f"\n## Desynchronised copy\n\nThe audio of every clip is shifted by {frames} video frames "
        f"({frames * 40} ms; positive = audio late) relative to corpus {index['content_hash']}.\n",
        encoding="utf-8",
    )
    meta = {k: v for k, v in index.items() if k not in ("files", "content_hash")}
    meta.update({"av_offset_frames": int(frames), "shifted_from": index["content_hash"]})
    write_index(out, meta)
    return out
