"""Audiovisual training clips for the face and joint stages (synthetic corpus, LRS3).

An item of a manifest (:mod:`ttsf.data.manifest`) gives a 25 fps video with its audio
and transcript. :class:`AVClips` decodes it (once, when ``preload``), resizes frames to
the model's square size, computes the TTS's natural-log mel of the 16 kHz audio (and, with
``mfcc=True``, syncnet_python's 13-d MFCCs at 100/s for a SyncNet sync loss) and the
text tokens; :meth:`AVClips.sample` draws a training example (a source frame and a
window of target frames) from a seeded ``numpy`` generator.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ttsf.data.manifest import Item, load_manifest, resolve

log = logging.getLogger(__name__)


class ClipError(ValueError):
    """A manifest item that cannot be used for training (reason in the message)."""


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """Square uint8 frames ``(T, H, H, 3)`` -> ``(T, size, size, 3)`` (area when shrinking)."""
    import cv2

    if frames.shape[1] == size and frames.shape[2] == size:
        return frames
    if frames.shape[1] != frames.shape[2]:
        raise ClipError(f"frames are {frames.shape[2]}x{frames.shape[1]}, expected square face crops")
    interp = cv2.INTER_AREA if frames.shape[1] > size else cv2.INTER_CUBIC
    return np.stack([cv2.resize(f, (size, size), interpolation=interp) for f in frames])


class AVClips:
    """Clips of one manifest. ``mel_fn(wav float32 (samples,)) -> (80, L_m)`` numpy/tensor;
    ``tokens_fn(text) -> list[int]`` (the TTS front-end). Items that fail to load are
    skipped with a logged reason and listed in :attr:`failed`."""

    def __init__(self, root, manifest, size: int, mel_fn: Callable, tokens_fn: Callable,
                 fps: int = 25, sample_rate: int = 16000, hop: int = 160, preload: bool = True,
                 limit: Optional[int] = None, mfcc: bool = False):
        self.root = Path(root)
        self.mfcc = mfcc
        items = load_manifest(self.root / manifest if not Path(manifest).is_absolute() else manifest)
        items = sorted(items, key=lambda it: it.id)[:limit]
        self.size, self.fps, self.sample_rate, self.hop = size, fps, sample_rate, hop
        self.mel_fn, self.tokens_fn = mel_fn, tokens_fn
        self.items: list[Item] = []
        self.failed: dict[str, str] = {}
        self._cache: dict[int, dict] = {}
        for item in items:
            try:
                if item.text is None or item.ref_video is None:
                    raise ClipError("item has no transcript or no video")
                record = self._load(item) if preload else None
            except (ClipError, OSError, ValueError) as exc:
                self.failed[item.id] = str(exc)
                log.warning("skipping %s: %s", item.id, exc)
                continue
            if record is not None:
                self._cache[len(self.items)] = record
            self.items.append(item)
        if not self.items:
            raise ClipError(f"no usable clips in {manifest} under {root} ({len(self.failed)} failed)")

    def __len__(self) -> int:
        return len(self.items)

    def _load(self, item: Item) -> dict:
        from ttsf.media import read_audio, read_video

        video = read_video(resolve(self.root, item.ref_video), fps=self.fps, sample_rate=self.sample_rate)
        audio = video.audio
        if item.ref_audio is not None:
            audio = read_audio(resolve(self.root, item.ref_audio), sample_rate=self.sample_rate)
        if audio is None or len(audio) < self.hop * 8:
            raise ClipError("no audio track (or shorter than 8 mel frames)")
        mel = torch.as_tensor(np.asarray(self.mel_fn(audio)), dtype=torch.float32)
        tokens = torch.tensor(self.tokens_fn(item.text), dtype=torch.long)
        frames = resize_frames(video.frames, self.size)
        n_mel_frames = int(np.ceil(mel.shape[1] * self.hop * self.fps / self.sample_rate))
        frames = frames[: max(1, min(len(frames), n_mel_frames))]
        record = {"id": item.id, "frames": frames, "mel": mel, "tokens": tokens, "speaker": item.speaker}
        if self.mfcc:
            from ttsf.pretrained.mfcc import mfcc, to_int16_scale

            if self.sample_rate != 16000:
                raise ClipError(f"SyncNet MFCCs need 16 kHz audio, the clips are read at {self.sample_rate} Hz")
            record["mfcc"] = torch.as_tensor(mfcc(to_int16_scale(audio)).T, dtype=torch.float32)  # (13, M)
        return record

    def record(self, index: int) -> dict:
        if index in self._cache:
            return self._cache[index]
        return self._load(self.items[index])

    def sample(self, index: int, window: int, rng: Optional[np.random.Generator] = None,
               u: Optional[tuple[float, float]] = None) -> dict:
        """Source frame (random frame of the clip), a window of ``window`` target frames
        (padded by repeating the last frame when the clip is shorter) and its offset.

        The two random choices come from ``u`` (uniforms in [0, 1): window offset, source
        frame; :func:`ttsf.train.av_common.draw_batch`) or, without it, from ``rng``."""
        rec = self.record(index)
        frames = rec["frames"]
        t = len(frames)
        n_offsets = max(1, t - window + 1)
        if u is None:
            offset = int(rng.integers(0, n_offsets))
            src = int(rng.integers(0, t))
        else:
            offset, src = min(int(u[0] * n_offsets), n_offsets - 1), min(int(u[1] * t), t - 1)
        idx = np.minimum(np.arange(offset, offset + window), t - 1)
        out = {"id": rec["id"], "source": frames[src], "frames": frames[idx], "offset": offset,
               "n_frames": t, "mel": rec["mel"], "tokens": rec["tokens"]}
        if "mfcc" in rec:
            out["mfcc"] = rec["mfcc"]
        return out


def collate(samples: list[dict]) -> dict:
    """Batch :meth:`AVClips.sample` outputs: images ``[-1, 1]`` tensors, padded tokens/mels."""
    from ttsf.model import to_image_tensor

    b = len(samples)
    lt = max(len(s["tokens"]) for s in samples)
    lm = max(s["mel"].shape[1] for s in samples)
    tokens = torch.zeros(b, lt, dtype=torch.long)
    mel = torch.zeros(b, samples[0]["mel"].shape[0], lm)
    for i, s in enumerate(samples):
        tokens[i, : len(s["tokens"])] = s["tokens"]
        mel[i, :, : s["mel"].shape[1]] = s["mel"]
    # pad mel frames with the clip's minimum (silence) rather than 0 log-mel
    for i, s in enumerate(samples):
        mel[i, :, s["mel"].shape[1]:] = s["mel"].min()
    extra = {}
    if all("mfcc" in s for s in samples):  # zero-padded, as LSE pads audio beyond the clip end
        lf = max(s["mfcc"].shape[1] for s in samples)
        extra["mfcc"] = torch.zeros(b, samples[0]["mfcc"].shape[0], lf)
        for i, s in enumerate(samples):
            extra["mfcc"][i, :, : s["mfcc"].shape[1]] = s["mfcc"]
    return {
        **extra,
        "ids": [s["id"] for s in samples],
        "source": torch.cat([to_image_tensor(s["source"]) for s in samples]),
        "frames": torch.stack([to_image_tensor(s["frames"]) for s in samples]),
        "offsets": torch.tensor([s["offset"] for s in samples]),
        "tokens": tokens,
        "token_lengths": torch.tensor([len(s["tokens"]) for s in samples]),
        "mel": mel,
        "mel_lengths": torch.tensor([s["mel"].shape[1] for s in samples]),
    }
