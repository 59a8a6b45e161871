"""Sync loss through a syncnet_python-architecture SyncNet (``syncnet:<path>`` backend)."""

import os
from functools import partial

import numpy as np
import pytest
import torch

from ttsf.losses.sync import SyncLoss, SyncNetAdapter, build_sync_loss
from ttsf.weights.errors import MissingWeights

#: syncnet_python's mean face-track crop on the synthetic corpus (configs/joint/synth_64_sync.yaml)
SYNTH_CROP = (0.111, 0.192, 0.933, 1.013)
OFFLINE_CKPT = os.environ.get("TTSF_TEST_SYNCNET", "checkpoints/syncnet_loss_synth.pt")


def test_missing_syncnet_is_a_clear_error(tmp_path):
    with pytest.raises(MissingWeights, match="python -m eval.metrics.lse train"):
        build_sync_loss(f"syncnet:{tmp_path / 'absent.pt'}")
    with pytest.raises(ValueError, match="syncnet:<path>"):
        build_sync_loss("bogus")


class _Probe(torch.nn.Module):
    """A stand-in SyncNet that records what the adapter feeds it (into ``seen``)."""

    def __init__(self, seen: dict):
        super().__init__()
        self.seen = seen

    def forward_lip(self, x):
        self.seen["lip"] = x
        return x.mean(dim=(2, 3, 4))

    def forward_aud(self, x):
        self.seen["aud"] = x
        return x.mean(dim=(2, 3))[:, :1].repeat(1, 3)


def test_adapter_feeds_the_network_bgr_0_255_at_224():
    seen = {}
    Probe = partial(_Probe, seen)
    frames = torch.zeros(2, 5, 3, 64, 64)
    frames[:, :, 0] = 1.0  # pure red in RGB, [-1, 1]
    SyncNetAdapter(Probe()).embed_video(frames)
    x = seen["lip"]
    assert x.shape == (2, 3, 5, 224, 224)
    assert torch.allclose(x[:, 2], torch.full_like(x[:, 2], 255.0))  # red lands in the BGR last channel
    assert torch.allclose(x[:, 0], torch.full_like(x[:, 0], 127.5))
    SyncNetAdapter(Probe()).embed_audio(torch.zeros(4, 13, 20))
    assert seen["aud"].shape == (4, 1, 13, 20)


def test_offline_syncnet_loss_prefers_aligned_audio(tiny_corpus):
    """Ground-truth frames with their own MFCCs score a lower sync loss than with MFCCs
    shifted by 6 frames: the loss carries the audio-visual correspondence."""
    from ttsf.data.manifest import load_manifest, resolve
    from ttsf.media import read_video
    from ttsf.model import to_image_tensor
    from ttsf.pretrained.mfcc import mfcc, to_int16_scale

    torch.set_num_threads(1)
    loss = build_sync_loss(f"syncnet:{OFFLINE_CKPT}", crop=SYNTH_CROP)
    assert isinstance(loss, SyncLoss) and loss.audio_feature == "mfcc"
    assert loss.describe()["sha256"] and loss.describe()["distance"] == "euclidean"
    aligned, shifted = [], []
    for item in list(load_manifest(tiny_corpus / "synth_test.jsonl"))[:4]:
        video = read_video(resolve(tiny_corpus, item.ref_video), fps=25, sample_rate=16000)
        frames = to_image_tensor(video.frames[:40])[None]  # (1, 40, 3, H, W)
        feats = torch.as_tensor(mfcc(to_int16_scale(video.audio)).T, dtype=torch.float32)[None]
        with torch.no_grad():
            aligned.append(float(loss(frames[:, 5:35], feats[:, :, 20:140])))
            shifted.append(float(loss(frames[:, 5:35], feats[:, :, 44:164])))
    assert np.mean(aligned) < np.mean(shifted)
    assert sum(a < s for a, s in zip(aligned, shifted)) >= 3


def test_crop_matches_a_manual_crop_and_pads_grey():
    seen = {}
    Probe = partial(_Probe, seen)
    ramp = torch.linspace(-1, 1, 100)
    frames = torch.stack([ramp[None, :].expand(100, 100), ramp[:, None].expand(100, 100),
                          (ramp[None, :] * ramp[:, None])]).expand(1, 5, 3, 100, 100)  # smooth RGB
    SyncNetAdapter(Probe(), crop=(0.2, 0.5, 0.7, 1.2)).embed_video(frames)
    x = seen["lip"][0, :, 0]  # (3, 224, 224) BGR of frame 0
    # inside the frame: rows 50..100 x cols 20..70 fill output rows 0..160 (0.5 of 0.7 in y), all columns
    manual = torch.nn.functional.interpolate(((frames[0, :1].flip(1) + 1) * 127.5)[:, :, 50:100, 20:70],
                                             size=(160, 224), mode="bilinear", align_corners=False)[0]
    assert torch.allclose(x[:, 8:152, 8:216], manual[:, 8:152, 8:216], atol=2.0)
    # below the frame (y > 1.0): syncnet_python's grey 110
    assert torch.allclose(x[:, 200:], torch.full_like(x[:, 200:], 110.0), atol=1e-3)
    with pytest.raises(ValueError):
        SyncNetAdapter(Probe(), crop=(0.5, 0.5, 0.2, 0.9))
