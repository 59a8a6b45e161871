import numpy as np
import pytest

from eval.metrics import visual
from eval.metrics.base import ItemError
from eval.metrics.sample import Sample


def test_sample_coerces_paths_and_requires_fields(tmp_path):
    sample = Sample("a", gen_video=str(tmp_path / "x.mp4"))
    assert sample.gen_video == tmp_path / "x.mp4"
    with pytest.raises(ItemError) as error:
        sample.require("ref_video")
    assert error.value.code == "missing_input"
    with pytest.raises(ItemError) as error:
        visual.frames(sample)
    assert error.value.code == "missing_file"


def test_decode_and_detection_run_once_per_clip(tiny_corpus, monkeypatch):
    import ttsf.media

    calls = {"decode": 0, "detect": 0}
    real_read, real_detect = ttsf.media.read_video, visual.DETECTORS["yunet"]

    def counting_read(*args, **kwargs):
        calls["decode"] += 1
        return real_read(*args, **kwargs)

    def counting_detect(images):
        calls["detect"] += 1
        return real_detect(images)

    monkeypatch.setattr(ttsf.media, "read_video", counting_read)
    monkeypatch.setitem(visual.DETECTORS, "yunet", counting_detect)
    sample = Sample("c", gen_video=tiny_corpus / "main" / "id01" / "00000.mp4")
    crops = visual.syncnet_crops(sample)
    aligned, index = visual.aligned_faces(sample)
    track = visual.faces(sample)
    assert calls == {"decode": 1, "detect": 1}
    n = len(visual.frames(sample))
    assert crops.shape == (n, 224, 224, 3) and crops.dtype == np.uint8
    assert aligned.shape[1:] == (112, 112, 3) and len(aligned) == len(index) == int(track.found.sum())
    assert track.n_missing == 0 and not sample.notes


def test_other_frame_rate_is_resampled_and_noted(tmp_path):
    from ttsf.media import write_video

    clip = write_video(tmp_path / "30fps.mp4", np.zeros((30, 32, 32, 3), np.uint8), fps=30)
    sample = Sample("f", gen_video=clip)
    frames = visual.frames(sample)
    assert len(frames) == 25
    assert sample.notes == ["gen_video: resampled 30 -> 25 fps"]


def test_no_face_anywhere_is_an_item_error_with_the_count(tmp_path):
    from ttsf.media import write_video

    clip = write_video(tmp_path / "grey.mp4", np.full((8, 64, 64, 3), 128, np.uint8), fps=25)
    with pytest.raises(ItemError, match="no face found in any of 8 frames") as error:
        visual.faces(Sample("g", gen_video=clip))
    assert error.value.code == "no_face"


def test_missing_frames_are_interpolated_and_counted():
    boxes = np.array([[0, 0, 10, 10], [np.nan] * 4, [4, 4, 14, 14], [np.nan] * 4], dtype=float)
    filled = visual.fill_track(boxes)
    np.testing.assert_allclose(filled[1], [2, 2, 12, 12])
    np.testing.assert_allclose(filled[3], [4, 4, 14, 14])


def test_similarity_transform_recovers_a_known_warp():
    angle, scale, shift = np.deg2rad(15), 1.7, np.array([5.0, -3.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = visual.ARCFACE_TEMPLATE.astype(float)
    moved = points @ rotation.T + shift
    matrix = visual.similarity_matrix(moved, points)
    back = moved @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(back, points, atol=1e-6)
