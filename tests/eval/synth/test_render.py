"""Rendering maths: pose trajectories, rotation convention, mouth and blink tracks, warping."""

from __future__ import annotations

import numpy as np
import pytest

from eval.synth.faces import SCORE_THRESHOLD, SOURCES, align
from eval.synth.lips import MouthRig, portrait_landmarks68, spread_track
from eval.synth.render import POSE_LIMITS, Renderer, blink_track, mouth_track, pose_trajectory, rotation
from ttsf.pretrained.yunet import YuNet


def test_pose_trajectory_bounded_smooth_and_seeded():
    a = pose_trajectory(np.random.default_rng(1), 250)
    b = pose_trajectory(np.random.default_rng(1), 250)
    c = pose_trajectory(np.random.default_rng(2), 250)
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert np.all(np.abs(a) <= np.array(POSE_LIMITS))
    assert np.all(a.max(axis=0) - a.min(axis=0) > 0.3 * np.array(POSE_LIMITS))  # it really moves
    assert np.abs(np.diff(a, axis=0)).max() < 2.5


def test_rotation_convention():
    nose = np.array([0.0, 0.0, 1.0])
    assert rotation(20, 0, 0) @ nose == pytest.approx([np.sin(np.radians(20)), 0, np.cos(np.radians(20))])
    assert (rotation(0, 10, 0) @ nose)[1] < 0  # pitch up: nose towards -y (image up)
    r = rotation(0, 0, 10) @ np.array([1.0, 0.0, 0.0])
    assert r[1] > 0  # roll > 0: +x goes to +y, clockwise on screen (y down)
    m = rotation(13, -7, 4)
    assert m @ m.T == pytest.approx(np.eye(3))


def test_mouth_track_from_energy():
    t = np.arange(16000 * 2) / 16000
    audio = np.zeros_like(t, dtype=np.float32)
    audio[16000:24000] = 0.3 * np.sin(2 * np.pi * 220 * t[16000:24000])  # speech in 1.0-1.5 s
    m = mouth_track(audio, 50)
    assert m.shape == (50,) and m[:24].max() == 0.0 and m[27:37].min() > 0.9 and m[39:].max() == 0.0


def test_blinks_are_occasional():
    b = blink_track(np.random.default_rng(0), 500)  # 20 s
    starts = np.nonzero((b[1:] > 0) & (b[:-1] == 0))[0]
    assert 3 <= len(starts) <= 14 and b.max() == 1.0 and (b > 0).mean() < 0.35


@pytest.fixture(scope="module")
def renderer():
    detector = YuNet(SCORE_THRESHOLD)
    portrait = align(SOURCES[1], 128, detector)
    rig = MouthRig(portrait.image, portrait_landmarks68(portrait.image, detector))
    return Renderer(portrait.image, portrait.landmarks, rig), portrait


def test_neutral_frame_is_the_portrait(renderer):
    r, portrait = renderer
    frame = r.render(0, 0, 0, 0, 0)
    assert np.abs(frame.astype(int) - portrait.image.astype(int)).max() <= 1


def test_yaw_moves_the_detected_nose(renderer):
    r, _ = renderer
    det = YuNet(SCORE_THRESHOLD)
    nose = {}
    for yaw in (-20, 0, 20):
        faces = det.detect(r.render(yaw, 0, 0, 0, 0))
        assert len(faces) == 1
        nose[yaw] = faces[0, 8] - (faces[0, 4] + faces[0, 6]) / 2  # nose x relative to the eyes
    assert nose[-20] < nose[0] - 1 < nose[20] - 2


def test_mouth_opening_darkens_the_mouth_between_the_lips(renderer):
    r, portrait = renderer
    lm = r.rig.landmarks
    mx, my = lm[60:68].mean(axis=0)  # middle of the inner lips
    box = (slice(int(my), int(my + 0.2 * r.rig.width) + 2), slice(int(mx - 4), int(mx + 4)))
    closed, opened = r.render(0, 0, 0, 0, 0)[box].mean(), r.render(0, 0, 0, 1.0, 0)[box].mean()
    assert opened < closed - 20


def test_mouth_rig_moves_the_real_lips_and_jaw(renderer):
    """Lips open and the chin drops where dlib finds them again; the eyes stay put."""
    from eval.synth.lips import portrait_landmarks68

    r, portrait = renderer
    det = YuNet(SCORE_THRESHOLD)
    rest = portrait_landmarks68(r.render(0, 0, 0, 0, 0), det)
    opened = portrait_landmarks68(r.render(0, 0, 0, 1.0, 0), det)
    def gap(lm):  # inner lip gap (the mouth is horizontal in the portrait)
        return lm[66, 1] - lm[62, 1]

    assert gap(opened) > gap(rest) + 0.15 * r.rig.width
    assert opened[8, 1] > rest[8, 1] + 2  # the chin follows
    # spread vs rounded: the rig's corners (dlib's corner points on a smiling portrait barely follow)
    spread, rounded = r.rig.shape(0.3, 1.0), r.rig.shape(0.3, -1.0)  # rows 0 and 6: points 48 and 54
    assert spread[6, 0] - spread[0, 0] > rounded[6, 0] - rounded[0, 0] + 0.2 * r.rig.width
    assert np.abs(opened[36:48] - rest[36:48]).max() < 1.5  # eyes still


def test_spread_track_from_spectrum():
    sr, t = 16000, np.arange(16000 * 2) / 16000
    audio = np.zeros_like(t, dtype=np.float32)
    audio[8000:16000] = 0.3 * np.sin(2 * np.pi * 300 * t[8000:16000])  # low: rounded
    audio[16000:24000] = 0.3 * np.sin(2 * np.pi * 4000 * t[16000:24000])  # high: spread
    s = spread_track(audio, 50, 640, sr)
    assert s.shape == (50,) and s[14:24].max() < -0.5 and s[26:36].min() > 0.5 and s[40:].max() == 0.0


def test_articulation_leads_the_sound_by_one_frame():
    from eval.synth.corpus import articulation_tracks
    from eval.synth.lips import ARTICULATION_LEAD_FRAMES

    sr, t = 16000, np.arange(16000 * 2) / 16000
    audio = np.zeros_like(t, dtype=np.float32)
    audio[8000:16000] = 0.3 * np.sin(2 * np.pi * 300 * t[8000:16000])  # rounded, frames 12.5 .. 25
    audio[16000:24000] = 0.3 * np.sin(2 * np.pi * 4000 * t[16000:24000])  # spread, frames 25 .. 37.5
    opening, spread = articulation_tracks(audio, 50, 640, sr)
    still_opening, still_spread = articulation_tracks(audio, 50, 640, sr, lead=0)
    assert ARTICULATION_LEAD_FRAMES == 1 and opening.shape == spread.shape == (50,)
    # lead 0 is the frame's own audio; with the lead the mouth moves one frame earlier
    np.testing.assert_array_equal(still_opening, mouth_track(audio, 50))
    np.testing.assert_array_equal(still_spread, spread_track(audio, 50, 640, sr))
    np.testing.assert_allclose(opening[:-2], still_opening[1:-1], atol=1e-12)
    assert np.argmax(opening > 0) == np.argmax(still_opening > 0) - 1
    assert np.argmax(spread > 0.5) == np.argmax(still_spread > 0.5) - 1
    assert opening[-1] == 0.0  # past the end of the audio the mouth is closed
    with pytest.raises(ValueError, match="lead"):
        articulation_tracks(audio, 50, lead=-1)
