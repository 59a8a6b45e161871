"""LSE-C / LSE-D: lip-sync confidence and distance from a SyncNet (joonson/syncnet_python).

Per item: the generated video is decoded at 25 fps, faces are detected per frame and
cut to syncnet_python's 224x224 crops (median-smoothed track, crop scale 0.4, grey
padding), the speech (``gen_audio`` if given, else the video's own audio track) is
taken at 16 kHz, and :mod:`eval.metrics.functional.lse` computes the distances over
offsets -15..+15. Corpus values are means over items.

Backends:

- ``syncnet_v2`` (paper): ``syncnet_v2.model`` + S3FD ``sfd_face.pth``. Like the
  reference pipeline it refuses face tracks shorter than ``min_track`` = 100 frames
  (option ``min_track`` changes it; the value is recorded).
- ``syncnet_offline`` (NOT comparable to published LSE): the same architecture at
  reduced width trained by this project on the synthetic corpus
  (``checkpoints/syncnet_offline_synth.pt``, see ``checkpoints/SYNCNET.md``), YuNet
  faces, ``min_track`` = 6 frames (one window).
- ``landmark_cca`` (NOT comparable to published LSE; no network trained by this project):
  dlib 68-point lip landmarks on YuNet boxes and the clip's MFCCs, per-clip regularised
  canonical correlation at every offset -15..+15 (:mod:`eval.metrics.functional.lse_landmark`),
  distance ``sqrt(2 (1 - rho))``; offset / LSE-D / LSE-C as syncnet_python. Needs at least
  ``vshift + 16`` frames. Real-face figures: ``checkpoints/SYNCNET.md``.
- ``fused_offline`` (NOT comparable to published LSE): both of the above on the same item,
  each one's distance-per-offset curve z-scored over its offsets and the two averaged
  (:mod:`eval.metrics.functional.lse_fusion`); offset / LSE-D / LSE-C of the fused curve
  with syncnet_python's semantics, in standard deviations.

Training the offline model: ``python -m eval.metrics.lse train --corpus DIR --out CKPT``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics import visual
from eval.metrics.base import BackendSpec, ItemError, MetricSpec
from eval.metrics.functional.lse import lse_from_curve
from eval.metrics.item_mean import ItemMetric

#: Fraction of frames that may lack a face before an item is refused.
MAX_MISSING_FACE_FRACTION = 0.5


def checkpoint_crops(path) -> str:
    """Crops a SyncNet checkpoint expects: ``"lm68"`` when this project trained it with
    ``--crops lm68`` (its ``train`` record says so), else ``"syncnet"`` (syncnet_python's)."""
    import json

    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    record = json.loads(state["train"]) if isinstance(state, dict) and "train" in state else {}
    return "lm68" if record.get("config", {}).get("crops") == "lm68" else "syncnet"


class LSE(ItemMetric):
    """Lip-sync error: ``lse_c`` (confidence, higher is better) and ``lse_d`` (distance, lower)."""

    spec = MetricSpec(
        name="lse",
        version="1.0",
        level="item",
        needs=("gen_video",),
        higher_is_better=True,
        backends=(
            BackendSpec("syncnet_v2", paper=True, weights=("syncnet_v2", "sfd_face"),
                        description="joonson/syncnet_python SyncNet v2 + S3FD crops, offsets +-15"),
            BackendSpec("fused_offline", paper=False, weights=("syncnet_offline", "dlib_lm68", "yunet"),
                        description=("syncnet_offline and landmark_cca together: each one's distance-per-offset curve "
                                     "standardised over its offsets (z-score), the two averaged with equal weights, "
                                     "nothing fitted; LSE-D/LSE-C in standard deviations, not SyncNet's scale "
                                     "(checkpoints/SYNCNET.md)")),
            BackendSpec("syncnet_offline", paper=False, weights=("syncnet_offline", "yunet"),
                        description=("project SyncNet (reduced width) trained on the synthetic corpus, YuNet crops; "
                                     "validated on synthetic clips and 14 real VoxCeleb2 clips (in sync 13/14, "
                                     "checkpoints/SYNCNET.md)")),
            BackendSpec("landmark_cca", paper=False, weights=("dlib_lm68", "yunet"),
                        description=("no trained sync network: per-clip regularised canonical correlation of dlib "
                                     "68-point lip-shape features (YuNet boxes) with MFCC c0-c5 over offsets +-15, "
                                     "distance sqrt(2(1-rho)); LSE-C on a 0-2 scale, not SyncNet's; validated on "
                                     "14 real VoxCeleb2 clips and the synthetic corpus (checkpoints/SYNCNET.md)")),
        ),
        outputs=("lse_c", "lse_d"),
        description="SyncNet audio-visual distance (LSE-D) and confidence (LSE-C) at the best offset",
    )

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", *, vshift: int = 15,
                 min_track: Optional[int] = None, weights: Optional[str] = None, batch_size: int = 20,
                 **options: Any):
        super().__init__(backend, device, **options)
        self.paper = self.backend.name == "syncnet_v2"
        self.vshift = vshift
        self.min_track = (100 if self.paper else 6) if min_track is None else min_track
        self.detector = "s3fd" if self.paper else "yunet"
        self.weights_path = weights
        self.batch_size = batch_size
        self._net = None
        self.add_state("lse_c")
        self.add_state("lse_d")
        self.crops = "syncnet"  # "syncnet" (syncnet_python crops) or "lm68" (landmark-aligned), from the checkpoint

    def network(self):
        if self._net is None:
            from eval.metrics.nets.weights import file_sha256, locate
            from ttsf.pretrained.syncnet import load_syncnet

            path = Path(self.weights_path) if self.weights_path else locate(self.backend.weights[0])
            self.weights_sha256 = file_sha256(path)
            self._net = load_syncnet(path).to(self.device)
            self.crops = checkpoint_crops(path)
        return self._net

    def face_crops(self, item: Any) -> np.ndarray:
        """The network's input crops: what its checkpoint was trained on (:func:`checkpoint_crops`)."""
        if self.crops == "lm68":
            return visual.lm68_crops(item, "gen_video", self.detector)
        return visual.syncnet_crops(item, "gen_video", self.detector)

    def speech(self, item: Any) -> np.ndarray:
        """16 kHz speech of the item: ``gen_audio`` if set, else the video's audio track
        (shared with the audio metrics through :mod:`eval.metrics.audio`)."""
        from eval.metrics.audio import audio

        return audio(item, "gen_audio", visual.SAMPLE_RATE)

    def score(self, item: Any) -> Mapping[str, float]:
        n_frames = len(visual.frames(item, "gen_video"))
        if self.backend.name == "landmark_cca":
            curve, windows = self._landmark_curve(item, n_frames)
            result = lse_from_curve(curve, self.vshift)
        elif self.backend.name == "fused_offline":
            from eval.metrics.functional.lse_fusion import fused_lse

            curve, windows = self._landmark_curve(item, n_frames)
            result = fused_lse([self._syncnet_curve(item, n_frames)[0], curve], self.vshift)
        else:
            curve, windows = self._syncnet_curve(item, n_frames)
            result = lse_from_curve(curve, self.vshift)
        track = visual.faces(item, "gen_video", self.detector)  # cached by the curves' face check
        return {"lse_c": result["lse_c"], "lse_d": result["lse_d"], "offset": float(result["offset"]),
                "windows": float(windows), "no_face_frames": float(track.n_missing)}

    def _check_faces(self, item: Any, n_frames: int) -> None:
        track = visual.faces(item, "gen_video", self.detector)
        if track.n_missing > MAX_MISSING_FACE_FRACTION * n_frames:
            raise ItemError(f"no face in {track.n_missing}/{n_frames} frames", code="no_face")

    def _syncnet_curve(self, item: Any, n_frames: int, audio: Optional[np.ndarray] = None) -> tuple[np.ndarray, int]:
        """SyncNet's mean distance per lag ``(2 vshift + 1,)`` and the number of windows
        (``audio``: 16 kHz speech to score instead of the item's own, e.g. a shifted copy)."""
        from eval.metrics.functional.lse import audio_embeddings, n_windows, offset_distances, video_embeddings
        from ttsf.pretrained.mfcc import to_int16_scale

        net = self.network()
        audio = self.speech(item) if audio is None else audio
        windows = n_windows(n_frames, len(audio))
        if windows < 1:
            raise ItemError(
                f"clip shorter than a SyncNet window: {n_frames} frames / {len(audio) / visual.SAMPLE_RATE:.2f} s "
                f"of audio give {windows} windows (5 frames + 20 MFCC frames needed)", code="too_short")
        if n_frames < self.min_track:
            raise ItemError(
                f"face track of {n_frames} frames < min_track {self.min_track} (syncnet_python drops such tracks; "
                f"set min_track to score it)", code="too_short")
        self._check_faces(item, n_frames)
        crops = self.face_crops(item)
        key = (f"syncnet_video_emb:{visual.source_key(item, 'gen_video')}:{self.detector}:{self.crops}:"
               f"{self.weights_sha256}")
        all_video = item.cached(key, lambda: video_embeddings(net, crops, len(crops) - 4, self.batch_size, self.device))
        audio_emb = audio_embeddings(net, to_int16_scale(audio), windows, self.batch_size, self.device)
        return offset_distances(all_video[:windows], audio_emb, self.vshift).mean(0).numpy(), windows

    def _landmark_curve(self, item: Any, n_frames: int, audio: Optional[np.ndarray] = None) -> tuple[np.ndarray, int]:
        """``landmark_cca``'s distance per lag ``(2 vshift + 1,)`` (dlib lip landmarks + MFCCs,
        canonical correlation) and the number of frames used (``audio`` as in :meth:`_syncnet_curve`)."""
        from eval.metrics.functional.lse_landmark import MIN_OVERLAP, landmark_lse
        from eval.metrics.nets.weights import file_sha256, locate
        from ttsf.pretrained.mfcc import to_int16_scale

        if self.weights_sha256 is None and self.backend.name == "landmark_cca":
            self.weights_sha256 = file_sha256(locate("dlib_lm68"))
        audio = self.speech(item) if audio is None else audio
        needed = self.vshift + MIN_OVERLAP
        usable = min(n_frames, len(audio) // 640)
        if usable < needed:
            seconds = len(audio) / visual.SAMPLE_RATE
            raise ItemError(f"clip too short for {self.backend.name}: {n_frames} frames / {seconds:.2f} s "
                            f"of audio, {needed} frames needed (vshift + {MIN_OVERLAP})", code="too_short")
        self._check_faces(item, n_frames)
        landmarks = visual.landmarks68(item, "gen_video", self.detector)[:usable]
        return landmark_lse(landmarks, to_int16_scale(audio[:usable * 640]), self.vshift)["mean_dist"], usable

