"""Per-clip visual work shared by every visual metric: decode once, detect once, crop once.

All results are stored in :attr:`eval.metrics.sample.Sample.cache`, so FID, ID-SIM,
LSE and diversity scoring the same :class:`~eval.metrics.sample.Sample` decode its
video, run the face detector and cut its crops a single time. Keys:

- ``"video:<src>:<fps>"``   -> :class:`ttsf.media.Video` (frames RGB ``(T, H, W, 3)``)
- ``"faces:<src>:<detector>"`` -> :class:`FaceTrack`
- ``"syncnet_crops:<src>:<detector>"`` -> BGR ``uint8`` ``(T, 224, 224, 3)``
- ``"aligned:<src>:<detector>:<size>"`` -> (RGB ``(n, size, size, 3)``, frame indices ``(n,)``)

where ``<src>`` is :func:`source_key` (the resolved file path, or an array hash), so a
cache dict may be shared by samples that reuse the same file.

Failures raise :class:`~eval.metrics.base.ItemError`; they are not cached, so each
metric reports the same reason.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from eval.metrics.base import ItemError
from eval.metrics.sample import Sample
from ttsf.pretrained.yunet import YuNet

log = logging.getLogger(__name__)

VIDEO_FPS = 25
SAMPLE_RATE = 16000
#: Detection runs on frames scaled so their longer side is at most this many pixels.
DETECT_MAX_SIDE = 640

# ArcFace / SFace 112x112 five-point template (eyes, nose, mouth corners; image left first).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)


# --------------------------------------------------------------------------- decoding
def source_key(sample: Sample, field: str) -> str:
    """Cache-key part naming the content of ``field``: its path, or a hash of an array.

    Keys name the file rather than the field, so one cache dict may be shared by several
    samples (e.g. every system's item for the same reference clip) without mix-ups.
    """
    import hashlib

    value = sample.require(field)
    if isinstance(value, np.ndarray):
        digest = hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]
        return f"array:{value.shape}:{digest}"
    return str(Path(value).resolve())


def video(sample: Sample, field: str = "gen_video", fps: float = VIDEO_FPS):
    """The decoded clip (frames resampled to ``fps``, audio at 16 kHz), cached.

    Raises :class:`ItemError` (code ``decode``) when the file is missing or unreadable.
    A source frame rate other than ``fps`` is resampled and noted on the sample.
    """
    path = sample.require(field)

    def decode():
        from ttsf.media import MediaError, read_video

        if not Path(path).is_file():
            raise ItemError(f"{field} not found: {path}", code="missing_file")
        try:
            clip = read_video(path, fps=fps, sample_rate=SAMPLE_RATE)
        except MediaError as error:
            raise ItemError(f"cannot decode {field} {path}: {error}", code="decode") from error
        if abs(clip.source_fps - fps) > 1e-3:
            sample.note(f"{field}: resampled {clip.source_fps:g} -> {fps:g} fps")
        return clip

    return sample.cached(f"video:{source_key(sample, field)}:{fps:g}", decode)


def frames(sample: Sample, field: str = "gen_video", fps: float = VIDEO_FPS) -> np.ndarray:
    """RGB ``uint8`` frames ``(T, H, W, 3)`` of ``field`` at ``fps``."""
    return video(sample, field, fps).frames


def image(sample: Sample, field: str = "source_image") -> np.ndarray:
    """An image field as RGB ``uint8`` ``(H, W, 3)`` (path or array), cached."""
    value = sample.require(field)

    def load():
        if isinstance(value, np.ndarray):
            array = value
        else:
            import cv2

            bgr = cv2.imread(str(value), cv2.IMREAD_COLOR)
            if bgr is None:
                raise ItemError(f"cannot read {field} {value}", code="decode")
            array = bgr[:, :, ::-1]
        if array.ndim != 3 or array.shape[2] != 3:
            raise ItemError(f"{field} must be (H, W, 3) RGB, got shape {array.shape}", code="bad_input")
        return np.ascontiguousarray(array.astype(np.uint8))

    return sample.cached(f"image:{source_key(sample, field)}", load)


# --------------------------------------------------------------------------- detection
@dataclasses.dataclass(frozen=True)
class FaceTrack:
    """The most confident face per frame.

    Attributes:
        boxes: ``(T, 4)`` float ``x1, y1, x2, y2`` in frame pixels, NaN rows where no face.
        scores: ``(T,)`` detector confidence, NaN where no face.
        landmarks: ``(T, 5, 2)`` five points (eyes, nose, mouth corners), NaN where no
            face, or None for detectors without landmarks (S3FD).
        detector: detector name.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: Optional[np.ndarray]
    detector: str

    @property
    def found(self) -> np.ndarray:
        """``(T,)`` bool: frames with a face."""
        return ~np.isnan(self.scores)

    @property
    def n_missing(self) -> int:
        return int((~self.found).sum())


def detect_yunet(images: np.ndarray, score_threshold: float = 0.6) -> FaceTrack:
    """YuNet (OpenCV Zoo, int8) on RGB ``(T, H, W, 3)`` frames."""
    detector = YuNet(score_threshold, max_side=DETECT_MAX_SIDE)
    count = len(images)
    boxes = np.full((count, 4), np.nan)
    scores = np.full(count, np.nan)
    landmarks = np.full((count, 5, 2), np.nan)
    for index, rgb in enumerate(images):
        faces = detector.detect(rgb)
        if len(faces) == 0:
            continue
        best = faces[int(np.argmax(faces[:, 14]))]
        x, y, w, h = best[:4]
        boxes[index] = (x, y, x + w, y + h)
        landmarks[index] = best[4:14].reshape(5, 2)
        scores[index] = best[14]
    return FaceTrack(boxes, scores, landmarks, "yunet")


def detect_s3fd(images: np.ndarray) -> FaceTrack:
    """S3FD (``sfd_face.pth``) as syncnet_python: scale 0.25, confidence 0.9."""
    from eval.metrics.nets.s3fd import S3FDDetector

    detector = S3FDDetector.load()
    count = len(images)
    boxes = np.full((count, 4), np.nan)
    scores = np.full(count, np.nan)
    for index, rgb in enumerate(images):
        found = detector.detect(rgb, conf_threshold=0.9, scale=0.25)
        if len(found):
            best = found[int(np.argmax(found[:, 4]))]
            boxes[index] = best[:4]
            scores[index] = best[4]
    return FaceTrack(boxes, scores, None, "s3fd")


DETECTORS: dict[str, Callable[[np.ndarray], FaceTrack]] = {"yunet": detect_yunet, "s3fd": detect_s3fd}


def faces(sample: Sample, field: str = "gen_video", detector: str = "yunet") -> FaceTrack:
    """Face track of a video field, cached; raises :class:`ItemError` if no frame has a face.

    Frames without a face are counted and noted on the sample.
    """

    def run() -> FaceTrack:
        track = DETECTORS[detector](frames(sample, field))
        if not track.found.any():
            raise ItemError(f"{field}: no face found in any of {len(track.scores)} frames ({detector})", code="no_face")
        if track.n_missing:
            sample.note(f"{field}: no face in {track.n_missing}/{len(track.scores)} frames ({detector})")
        return track

    return sample.cached(f"faces:{source_key(sample, field)}:{detector}", run)


def image_faces(sample: Sample, field: str = "source_image", detector: str = "yunet") -> FaceTrack:
    """Face of a still image field (one-frame track), cached."""

    def run() -> FaceTrack:
        track = DETECTORS[detector](image(sample, field)[None])
        if not track.found.any():
            raise ItemError(f"{field}: no face found ({detector})", code="no_face")
        return track

    return sample.cached(f"faces:{source_key(sample, field)}:{detector}", run)


# --------------------------------------------------------------------------- crops
def fill_track(boxes: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaN rows of ``(T, k)`` between detections; hold the ends."""
    filled = np.array(boxes, dtype=np.float64)
    found = ~np.isnan(filled[:, 0])
    index = np.arange(len(filled))
    for column in range(filled.shape[1]):
        filled[:, column] = np.interp(index, index[found], filled[found, column])
    return filled


def syncnet_crop_frames(images: np.ndarray, boxes: np.ndarray, crop_scale: float = 0.4) -> np.ndarray:
    """syncnet_python's face crops: median-smoothed track, 110-grey padding, 224x224.

    Args:
        images: RGB ``uint8`` ``(T, H, W, 3)``.
        boxes: ``(T, 4)`` boxes without NaN (see :func:`fill_track`).

    Returns:
        BGR ``uint8`` ``(T, 224, 224, 3)`` (SyncNet consumes OpenCV's BGR order).
    """
    import cv2
    from scipy import signal

    half = np.maximum(boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]) / 2
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2
    half, centre_x, centre_y = (signal.medfilt(v, kernel_size=13) for v in (half, centre_x, centre_y))
    out = np.empty((len(images), 224, 224, 3), dtype=np.uint8)
    for index, rgb in enumerate(images):
        size = half[index]
        pad = int(size * (1 + 2 * crop_scale))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        padded = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(110, 110, 110))
        my, mx = centre_y[index] + pad, centre_x[index] + pad
        y1, y2 = int(my - size), int(my + size * (1 + 2 * crop_scale))
        x1, x2 = int(mx - size * (1 + crop_scale)), int(mx + size * (1 + crop_scale))
        out[index] = cv2.resize(padded[y1:y2, x1:x2], (224, 224))
    return out


def syncnet_crops(sample: Sample, field: str = "gen_video", detector: str = "yunet") -> np.ndarray:
    """SyncNet input crops of a video field (BGR ``(T, 224, 224, 3)``), cached."""

    def run():
        track = faces(sample, field, detector)
        return syncnet_crop_frames(frames(sample, field), fill_track(track.boxes))

    return sample.cached(f"syncnet_crops:{source_key(sample, field)}:{detector}", run)


def similarity_matrix(points: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform ``(2, 3)`` mapping ``points`` ``(k, 2)`` onto ``template``
    (Umeyama, no reflection)."""
    src = np.asarray(points, dtype=np.float64)
    dst = np.asarray(template, dtype=np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    scale = (s * sign).sum() / src_c.var(0).sum()
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp a face onto the ArcFace five-point template: RGB ``(size, size, 3)``."""
    import cv2

    template = ARCFACE_TEMPLATE * (size / 112.0)
    matrix = similarity_matrix(landmarks, template)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)


def aligned_faces(sample: Sample, field: str = "gen_video", detector: str = "yunet", size: int = 112):
    """Template-aligned faces of a video field: (RGB ``(n, size, size, 3)``, frame indices ``(n,)``)."""

    def run():
        track = faces(sample, field, detector)
        if track.landmarks is None:
            raise ItemError(f"detector {detector} gives no landmarks; alignment needs them", code="bad_config")
        images = frames(sample, field)
        index = np.flatnonzero(track.found)
        crops = np.stack([align_face(images[i], track.landmarks[i], size) for i in index])
        return crops, index

    return sample.cached(f"aligned:{source_key(sample, field)}:{detector}:{size}", run)


def box_crops(images: np.ndarray, boxes: np.ndarray, expand: tuple[float, float, float, float],
              size: int) -> np.ndarray:
    """Expanded-box crops resized to ``size`` (bilinear): RGB ``(n, size, size, 3)``.

    ``expand = (left, top, right, bottom)`` as fractions of the box width/height added on
    each side; crops are clipped to the frame.
    """
    import cv2

    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    height, width = images.shape[1:3]
    for index, (rgb, box) in enumerate(zip(images, boxes)):
        x1, y1, x2, y2 = box
        w, h = x2 - x1, y2 - y1
        left = int(max(0, x1 - expand[0] * w))
        top = int(max(0, y1 - expand[1] * h))
        right = int(min(width, x2 + expand[2] * w))
        bottom = int(min(height, y2 + expand[3] * h))
        if right - left < 2 or bottom - top < 2:
            raise ItemError(f"degenerate face box {box.tolist()} in a {width}x{height} frame", code="no_face")
        out[index] = cv2.resize(rgb[top:bottom, left:right], (size, size), interpolation=cv2.INTER_LINEAR)
    return out


# --------------------------------------------------------------------------- 68-point landmarks
def landmarks68(sample: Sample, field: str = "gen_video", detector: str = "yunet") -> np.ndarray:
    """dlib 68-point landmarks ``(T, 68, 2)`` of a video field, cached (key
    ``"lm68:<src>:<detector>"``). Boxes: the detector's track, gaps interpolated
    (:func:`fill_track`), mapped to dlib's box convention
    (:func:`eval.metrics.nets.face_landmarks.dlib_box_from_yunet`)."""

    def run():
        from eval.metrics.nets.face_landmarks import dlib_box_from_yunet
        from eval.metrics.nets.face_landmarks import landmarks68 as predict
        from eval.metrics.nets.weights import locate

        track = faces(sample, field, detector)
        boxes = dlib_box_from_yunet(fill_track(track.boxes))
        return predict(frames(sample, field), boxes, str(locate("dlib_lm68")))

    return sample.cached(f"lm68:{source_key(sample, field)}:{detector}", run)


#: Where :func:`lm68_crop_frames` puts the eye centres and the nose tip in its 224x224 crop
#: (chosen so the face fills the crop about as in syncnet_python's crops).
LM68_TEMPLATE = np.array([[80.0, 72.0], [144.0, 72.0], [112.0, 114.0]])


def lm68_crop_frames(images: np.ndarray, landmarks: np.ndarray, smooth: int = 5) -> np.ndarray:
    """Faces aligned by 68-point landmarks: BGR ``uint8`` ``(T, 224, 224, 3)``.

    Per frame a similarity transform maps the two eye centres (mean of points 36-41 and
    42-47) and the nose tip (30) onto :data:`LM68_TEMPLATE`; the points are first averaged
    over ``smooth`` frames (edge-padded) so landmark jitter does not shake the crop. The
    mouth is not used for alignment, so its motion stays in the crop.

    Args:
        images: RGB ``uint8`` ``(T, H, W, 3)``; landmarks: ``(T, 68, 2)``.
    """
    import cv2

    points = np.stack([landmarks[:, 36:42].mean(1), landmarks[:, 42:48].mean(1), landmarks[:, 30]], 1)  # (T, 3, 2)
    if smooth > 1:
        padded = np.pad(points, ((smooth // 2, smooth - 1 - smooth // 2), (0, 0), (0, 0)), mode="edge")
        points = np.stack([padded[i:i + len(points)] for i in range(smooth)]).mean(0)
    out = np.empty((len(images), 224, 224, 3), dtype=np.uint8)
    for index, rgb in enumerate(images):
        matrix = similarity_matrix(points[index], LM68_TEMPLATE)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        out[index] = cv2.warpAffine(bgr, matrix, (224, 224), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=(110, 110, 110))
    return out


def lm68_crops(sample: Sample, field: str = "gen_video", detector: str = "yunet") -> np.ndarray:
    """Landmark-aligned SyncNet input crops (BGR ``(T, 224, 224, 3)``), cached
    (key ``"lm68_crops:<src>:<detector>"``)."""

    def run():
        return lm68_crop_frames(frames(sample, field), landmarks68(sample, field, detector))

    return sample.cached(f"lm68_crops:{source_key(sample, field)}:{detector}", run)
