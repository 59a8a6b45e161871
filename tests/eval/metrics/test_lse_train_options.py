"""Options of the offline SyncNet trainer used by the landmark-aligned experiment
(checkpoints/SYNCNET.md): landmark-aligned crops and appearance augmentation."""

import numpy as np
import torch

from eval.metrics import visual
from eval.metrics.lse.train import augment_windows


def test_lm68_crop_frames_put_eyes_and_nose_on_the_template():
    rng = np.random.default_rng(0)
    landmarks = rng.normal(0, 3, (6, 68, 2)) + 200
    angle, scale, shift = 0.3, 1.7, np.array([40.0, -25.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = visual.LM68_TEMPLATE
    # place eye centres and nose tip at a rotated, scaled, shifted copy of the template
    source = (target - 112) @ rot.T + 300 + shift
    landmarks[:, 36:42] += source[0] - landmarks[:, 36:42].mean(1, keepdims=True)
    landmarks[:, 42:48] += source[1] - landmarks[:, 42:48].mean(1, keepdims=True)
    landmarks[:, 30] = source[2]
    images = np.zeros((6, 600, 600, 3), np.uint8)
    x, y = np.round(source[2]).astype(int)
    images[:, y - 3:y + 4, x - 3:x + 4] = (255, 0, 0)  # a red nose tip (RGB)
    crops = visual.lm68_crop_frames(images, landmarks)
    assert crops.shape == (6, 224, 224, 3) and crops.dtype == np.uint8
    red = np.argwhere(crops[0, :, :, 2] > 128)  # BGR output: red is channel 2
    np.testing.assert_allclose(red.mean(0)[::-1], target[2], atol=1.5)


def test_augment_windows_keeps_shape_range_and_is_seeded():
    windows = torch.rand(3, 3, 5, 32, 32) * 255
    a = augment_windows(windows, 1.0, np.random.default_rng(0))
    b = augment_windows(windows, 1.0, np.random.default_rng(0))
    assert a.shape == windows.shape and float(a.min()) >= 0 and float(a.max()) <= 255
    torch.testing.assert_close(a, b)
    assert float((a - windows).abs().mean()) > 5  # it changes the appearance
    still = augment_windows(windows, 0.0, np.random.default_rng(0))
    torch.testing.assert_close(still, windows, atol=1e-2, rtol=0)  # strength 0 = identity


def test_lse_backend_feeds_a_checkpoint_the_crops_it_was_trained_on(tmp_path):
    """A checkpoint trained with ``--crops lm68`` gets landmark-aligned crops from the metric;
    one without the option (or a reference state dict) gets syncnet_python's."""
    import json

    from eval.metrics.lse import checkpoint_crops
    from ttsf.pretrained.syncnet import SyncNet

    state = SyncNet(width=0.125, embed_dim=16).state_dict()
    for crops, expected in (("lm68", "lm68"), ("yunet", "syncnet"), (None, "syncnet")):
        config = {"width": 0.125} if crops is None else {"width": 0.125, "crops": crops}
        path = tmp_path / f"{crops}.pt"
        torch.save({"state_dict": state, "width": 0.125, "embed_dim": 16,
                    "train": json.dumps({"config": config})}, path)
        assert checkpoint_crops(path) == expected
    torch.save(state, tmp_path / "reference.pt")
    assert checkpoint_crops(tmp_path / "reference.pt") == "syncnet"
