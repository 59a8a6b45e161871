import types

import numpy as np
import pytest
import torch

from eval.metrics.base import ItemError
from eval.metrics.functional.lse import (
    audio_embeddings,
    lse_from_distances,
    n_windows,
    offset_distances,
    syncnet_embeddings,
    video_embeddings,
)
from eval.metrics.lse import LSE
from eval.metrics.nets.reference import syncnet_reference_module
from eval.metrics.sample import Sample
from ttsf.pretrained.mfcc import to_int16_scale

OFFLINE_CKPT = "checkpoints/syncnet_offline_synth.pt"


def test_lse_from_distances_analytic():
    vshift = 3
    mean = torch.tensor([5.0, 4.0, 3.0, 1.0, 6.0, 7.0, 8.0])  # min at index 3 -> offset 0
    dists = mean.repeat(4, 1)
    out = lse_from_distances(dists, vshift)
    assert out["offset"] == 0 and out["lse_d"] == pytest.approx(1.0) and out["lse_c"] == pytest.approx(5.0 - 1.0)
    out = lse_from_distances(torch.roll(mean, 2).repeat(2, 1), vshift)  # min moves to index 5
    assert out["offset"] == -2


def test_offset_distances_pad_beyond_the_ends():
    video = torch.eye(3)
    audio = torch.eye(3)
    d = offset_distances(video, audio, vshift=1)
    assert d.shape == (3, 3)
    assert d[0, 1] == pytest.approx(0.0, abs=1e-5)  # aligned
    assert d[0, 0] == pytest.approx(1.0, abs=1e-5)  # zero padding: ||e0 - 0||
    assert d[1, 0] == pytest.approx(np.sqrt(2), abs=1e-5)


def test_parity_with_syncnet_python_instance(tmp_path):
    """Same crops, same audio, same seeded random weights: our LSE == SyncNetInstance.evaluate."""
    import cv2
    from scipy.io import wavfile

    SyncNetInstance = syncnet_reference_module("SyncNetInstance").SyncNetInstance
    S = syncnet_reference_module("SyncNetModel").S

    from ttsf.pretrained.syncnet import load_syncnet

    torch.set_num_threads(1)
    torch.manual_seed(0)
    reference_net = S()
    weights = tmp_path / "syncnet_random.model"
    torch.save(reference_net.state_dict(), weights)
    rng = np.random.default_rng(0)
    n_frames = 30
    base = cv2.resize((rng.random((28, 28, 3)) * 255).astype(np.uint8), (224, 224))
    for i in range(n_frames):
        frame = np.roll(base, 3 * i, axis=0)
        cv2.imwrite(str(tmp_path / f"{i:06d}.jpg"), frame)
    audio = (rng.standard_normal(n_frames * 640 + 300) * 2000).astype(np.int16)
    wavfile.write(tmp_path / "audio.wav", 16000, audio)
    opt = types.SimpleNamespace(tmp_dir=str(tmp_path), batch_size=20, vshift=4)
    ref_offset, ref_conf, ref_dist = SyncNetInstance(reference_net, device="cpu").evaluate(opt)

    crops = np.stack([cv2.imread(str(tmp_path / f"{i:06d}.jpg")) for i in range(n_frames)])
    net = load_syncnet(weights)
    video, aud = syncnet_embeddings(net, crops, audio.astype(np.float64))
    ours = lse_from_distances(offset_distances(video, aud, 4), 4)
    assert ours["offset"] == ref_offset
    assert abs(ours["lse_c"] - ref_conf) <= 1e-4
    assert abs(ours["lse_d"] - ref_dist) <= 1e-4
    assert ref_conf > 0


def test_short_clip_and_min_track_are_item_errors(tmp_path):
    from ttsf.media import write_video

    audio = np.zeros(16000 // 5, dtype=np.float32)
    short = write_video(tmp_path / "short.mp4", np.zeros((5, 64, 64, 3), np.uint8), fps=25, audio=audio)
    metric = LSE("syncnet_offline")
    metric.network = lambda: None  # the length check comes before any network use
    with pytest.raises(ItemError) as error:
        metric.update(Sample("s", gen_video=short))
    assert error.value.code == "too_short" and "SyncNet window" in error.value.reason
    clip = write_video(tmp_path / "clip.mp4", np.zeros((30, 64, 64, 3), np.uint8), fps=25,
                       audio=np.zeros(16000 * 30 // 25, np.float32))
    paper = LSE("syncnet_v2")
    paper.network = lambda: None
    with pytest.raises(ItemError, match="min_track 100") as error:
        paper.update(Sample("c", gen_video=clip))
    assert error.value.code == "too_short"


def test_no_face_is_an_item_error(tmp_path):
    from ttsf.media import write_video

    clip = write_video(tmp_path / "blank.mp4", np.full((20, 64, 64, 3), 90, np.uint8), fps=25,
                       audio=np.zeros(16000 * 20 // 25, np.float32))
    metric = LSE("syncnet_offline")
    metric.network = lambda: None
    with pytest.raises(ItemError) as error:
        metric.update(Sample("b", gen_video=clip))
    assert error.value.code == "no_face" and "20 frames" in error.value.reason


@pytest.mark.parametrize("checkpoint", [OFFLINE_CKPT, "checkpoints/syncnet_loss_synth.pt"])
def test_offline_syncnet_peaks_at_zero_and_recovers_shifts(tiny_corpus, checkpoint):
    """The committed offline SyncNets (the metric's, and the frozen network of the TTSF sync loss) on
    the synthetic test clips: offset 0 on the real audio, and +-5 when the audio is advanced /
    delayed by 5 frames (a network trained before corpus 2.1's one-frame lip lead reads -1 here)."""
    from eval.metrics import visual
    from eval.metrics.lse import checkpoint_crops
    from ttsf.data.manifest import load_manifest, resolve
    from ttsf.pretrained.syncnet import load_syncnet

    torch.set_num_threads(1)
    net = load_syncnet(checkpoint)
    crop_fn = visual.lm68_crops if checkpoint_crops(checkpoint) == "lm68" else visual.syncnet_crops
    shift = 5 * 640
    hits, trials, confidences = 0, 0, []
    for item in load_manifest(tiny_corpus / "synth_test.jsonl"):
        sample = Sample(item.id, gen_video=resolve(tiny_corpus, item.ref_video))
        crops = crop_fn(sample, "gen_video", "yunet")
        audio = to_int16_scale(visual.video(sample).audio)
        cases = {0: audio, -5: np.concatenate([np.zeros(shift), audio]), 5: audio[shift:]}
        count = n_windows(len(crops), len(audio) - shift)
        video = video_embeddings(net, crops, count)
        for expected, wav in cases.items():
            out = lse_from_distances(offset_distances(video, audio_embeddings(net, wav, count), 15), 15)
            hits += out["offset"] == expected
            trials += 1
            if expected == 0:
                confidences.append(out["lse_c"])
    assert trials >= 12
    assert hits / trials >= 0.9
    assert np.mean(confidences) > 1.0


def test_s3fd_matches_syncnet_python_detector():
    """Same seeded random S3FD weights, same image: identical boxes and scores."""
    import importlib.util
    import sys
    from pathlib import Path

    import cv2

    from eval.metrics.nets.s3fd import S3FDDetector, S3FDNet

    torch.set_num_threads(1)
    base = Path(importlib.util.find_spec("syncnet_python").submodule_search_locations[0]) / "detectors" / "s3fd"
    spec = importlib.util.spec_from_file_location("_reference_s3fd", base / "__init__.py",
                                                  submodule_search_locations=[str(base)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["_reference_s3fd"] = module
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    reference_net = sys.modules["_reference_s3fd.nets"].S3FDNet(device="cpu")
    ours = S3FDNet()
    ours.load_state_dict(reference_net.state_dict())
    folder = Path(importlib.util.find_spec("insightface").submodule_search_locations[0])
    image = np.ascontiguousarray(cv2.imread(str(folder / "data" / "images" / "t1.jpg"))[:, :, ::-1])
    detector = S3FDDetector(ours)
    everything = detector.detect(image, conf_threshold=0.0)
    threshold = float(np.sort(everything[:, 4])[-20])  # random weights: keep ~20 strongest boxes
    expected = module.S3FD(reference_net, device="cpu").detect_faces(image, conf_th=threshold, scales=[0.25])
    got = detector.detect(image, conf_threshold=threshold, scale=0.25)
    assert len(expected) >= 10 and got.shape == expected.shape
    order_e, order_g = np.argsort(-expected[:, 4]), np.argsort(-got[:, 4])
    np.testing.assert_allclose(got[order_g], expected[order_e], rtol=1e-5, atol=1e-3)
