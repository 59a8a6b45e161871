"""dlib's 68-point face landmarks (iBUG 300-W layout) on boxes from any face detector.

The model is ``shape_predictor_68_face_landmarks.dat`` (Kazemi & Sullivan's ensemble of
regression trees, trained by dlib on iBUG 300-W real faces), shipped inside the pip package
``face-recognition-models`` 0.3.0; ``dlib-bin`` runs it on CPU, deterministically. This
module imports nothing from ``eval``: callers pass the model path (the metric locates it
through the weights registry), so the model package may share it later.

dlib's predictor was trained from dlib's HOG-detector boxes. :func:`dlib_box_from_yunet`
maps a YuNet box onto that convention: a square of side 0.80 x the YuNet box height, its
centre moved down by 0.06 x that height. The constants are medians over 15 faces where both
detectors fired (insightface's sample images ``t1.jpg`` and ``Tom_Hanks_54745.png`` and the
8 synthetic-corpus portraits), none of them from the real validation clips.

Point indices (0-based): 36/45 outer eye corners, 48/54 outer mouth corners, 51/57 outer
upper/lower lip middle, 60/64 inner mouth corners, 61-63 inner upper lip, 65-67 inner lower lip.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

#: YuNet box -> dlib box: side = SIDE x YuNet height, centre y += SHIFT x YuNet height.
YUNET_TO_DLIB_SIDE = 0.80
YUNET_TO_DLIB_SHIFT = 0.06
#: Faces are resampled so the dlib box is this many pixels wide before prediction
#: (dlib returns integer pixel coordinates; upsampling small faces gives sub-pixel ones).
PREDICT_BOX_PX = 256


@functools.lru_cache(maxsize=2)
def load_predictor(path: str):
    """The dlib shape predictor at ``path`` (cached per path)."""
    try:
        import dlib
    except ImportError as error:  # pragma: no cover - exercised only without the package
        raise ImportError("face landmarks need dlib: pip install dlib-bin==20.0.1.post1") from error
    if not Path(path).is_file():
        raise FileNotFoundError(f"dlib landmark model not found: {path}")
    return dlib.shape_predictor(str(path))


def dlib_box_from_yunet(boxes: np.ndarray) -> np.ndarray:
    """YuNet ``x1, y1, x2, y2`` boxes ``(T, 4)`` -> square dlib-style boxes ``(T, 4)``."""
    boxes = np.asarray(boxes, dtype=np.float64)
    height = boxes[:, 3] - boxes[:, 1]
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2 + YUNET_TO_DLIB_SHIFT * height
    half = YUNET_TO_DLIB_SIDE * height / 2
    return np.stack([centre_x - half, centre_y - half, centre_x + half, centre_y + half], 1)


def landmarks68(images: np.ndarray, boxes: np.ndarray, model_path: str) -> np.ndarray:
    """68 landmarks per frame.

    Args:
        images: RGB ``uint8`` ``(T, H, W, 3)``.
        boxes: dlib-style boxes ``(T, 4)`` ``x1, y1, x2, y2`` in frame pixels, no NaN
            (see :func:`dlib_box_from_yunet`).
        model_path: ``shape_predictor_68_face_landmarks.dat``.

    Returns:
        float64 ``(T, 68, 2)`` ``x, y`` in frame pixels.
    """
    import cv2
    import dlib

    predictor = load_predictor(str(model_path))
    out = np.empty((len(images), 68, 2))
    for index, (rgb, box) in enumerate(zip(images, np.asarray(boxes, dtype=np.float64))):
        side = box[2] - box[0]
        scale = PREDICT_BOX_PX / max(side, 1.0)
        # Resample a 2x-box region so the box is PREDICT_BOX_PX wide: crop -> (x - ox) * scale.
        ox, oy = box[0] - side / 2, box[1] - side / 2
        matrix = np.array([[scale, 0.0, -ox * scale], [0.0, scale, -oy * scale]])
        size = int(round(2 * PREDICT_BOX_PX))
        crop = cv2.warpAffine(np.ascontiguousarray(rgb), matrix, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        lo = PREDICT_BOX_PX // 2
        shape = predictor(crop, dlib.rectangle(lo, lo, lo + PREDICT_BOX_PX, lo + PREDICT_BOX_PX))
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        out[index] = points / scale + (ox, oy)
    return out
