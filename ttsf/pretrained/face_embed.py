"""Face-recognition embedders on template-aligned 112x112 faces.

- :class:`SFaceEmbedder`: OpenCV Zoo SFace (int8 ONNX, 128-d) run by ``cv2.dnn``;
  input BGR 0..255 (OpenCV 5 needs the input name ``"data"``).
- :class:`ArcFaceEmbedder`: insightface ArcFace ONNX (``w600k_r50.onnx`` /
  ``glintr100.onnx``, 512-d) run by onnxruntime; input RGB ``(x - 127.5) / 127.5``.

Both return L2-normalised ``float32`` embeddings ``(n, dims)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class SFaceEmbedder:
    dims = 128

    def __init__(self, path: Path):
        import cv2

        self.net = cv2.dnn.readNetFromONNX(str(path))

    def __call__(self, faces_rgb: np.ndarray) -> np.ndarray:
        """RGB ``uint8`` ``(n, 112, 112, 3)`` -> ``(n, 128)``."""
        import cv2

        out = []
        for face in faces_rgb:
            blob = cv2.dnn.blobFromImage(np.ascontiguousarray(face[:, :, ::-1]), 1.0, (112, 112), (0, 0, 0),
                                         swapRB=False, crop=False)
            self.net.setInput(blob, "data")
            out.append(self.net.forward().reshape(-1))
        return _normalise(np.stack(out))


class ArcFaceEmbedder:
    dims = 512

    def __init__(self, path: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, faces_rgb: np.ndarray) -> np.ndarray:
        """RGB ``uint8`` ``(n, 112, 112, 3)`` -> ``(n, dims)``."""
        blob = (faces_rgb.astype(np.float32).transpose(0, 3, 1, 2) - 127.5) / 127.5
        out = np.concatenate([self.session.run(None, {self.input_name: blob[i:i + 32]})[0]
                              for i in range(0, len(blob), 32)])
        return _normalise(out)


def _normalise(features: np.ndarray) -> np.ndarray:
    features = features.astype(np.float32)
    norm = np.linalg.norm(features, axis=1, keepdims=True)
    if (norm < 1e-12).any():
        raise ValueError("face embedder produced a zero vector")
    return features / norm
