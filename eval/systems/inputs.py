"""Reading an item's inputs: the one-shot source image and the reference speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ttsf import media
from ttsf.data.manifest import Item, resolve

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def source_image(item: Item, root: Path) -> np.ndarray:
    """The item's source frame, RGB ``uint8`` ``(H, W, 3)``.

    ``item.source.path`` is an image file or a video whose frame ``item.source.frame``
    (at the project's 25 fps) is the source. Raises :class:`ttsf.media.MediaError`.
    """
    path = resolve(root, item.source.path, f"item {item.id} source")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        import cv2

        if not path.is_file():
            raise media.MediaError(path, "file does not exist")
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise media.MediaError(path, "cannot decode image")
        if item.source.frame != 0:
            raise media.MediaError(path, f"source.frame={item.source.frame} given for a still image")
        return np.ascontiguousarray(bgr[:, :, ::-1])
    for index, frame in enumerate(media.iter_frames(path, fps=media.VIDEO_FPS)):
        if index == item.source.frame:
            return frame
    raise media.MediaError(path, f"source frame {item.source.frame} is past the end of the video")


def reference_audio_path(item: Item, root: Path) -> Path:
    """Absolute path of the reference speech (wav/m4a/mp4), or MediaError when absent."""
    if item.ref_audio is None:
        raise media.MediaError(item.id, "item has no ref_audio")
    return resolve(root, item.ref_audio, f"item {item.id} ref_audio")


def reference_video_path(item: Item, root: Path) -> Path:
    if item.ref_video is None:
        raise media.MediaError(item.id, "item has no ref_video")
    return resolve(root, item.ref_video, f"item {item.id} ref_video")
