"""ONNX Runtime for the offline feature networks (eval/metrics/nets/ort.py): the exported graph
computes what the torch module computes, to float32 rounding, at any batch size; metrics use it
by default only for their offline backends on the CPU and record which runtime they used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from eval.metrics.nets.ort import OrtNetwork, resolve_runtime

REAL = Path(__file__).resolve().parents[3] / "data" / "real_av"


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_runtime_defaults_and_refusals():
    assert resolve_runtime(None, paper=False, device="cpu") == "onnxruntime"
    assert resolve_runtime(None, paper=True, device="cpu") == "torch"
    assert resolve_runtime(None, paper=False, device="cuda") == "torch"
    assert resolve_runtime("torch", paper=False, device="cpu") == "torch"
    with pytest.raises(ValueError, match="offline backends on the CPU"):
        resolve_runtime("onnxruntime", paper=True, device="cpu")
    with pytest.raises(ValueError, match="offline backends on the CPU"):
        resolve_runtime("onnxruntime", paper=False, device="cuda")
    with pytest.raises(ValueError, match="runtime must be one of"):
        resolve_runtime("tensorrt", paper=False, device="cpu")


def test_without_onnxruntime_the_default_is_torch_and_asking_for_it_says_what_to_install(monkeypatch):
    import eval.metrics.nets.ort as ort

    monkeypatch.setattr(ort, "onnxruntime_installed", lambda: False)
    assert resolve_runtime(None, paper=False, device="cpu") == "torch"
    with pytest.raises(ValueError, match="requirements/extras.txt"):
        resolve_runtime("onnxruntime", paper=False, device="cpu")


@pytest.mark.parametrize("batch", [1, 5])
def test_whenet_graph_matches_torch_at_any_batch(batch):
    from eval.metrics.nets.whenet import WHENet

    torch.manual_seed(0)
    net = WHENet().eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so folding them in would show
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    ort = OrtNetwork(net, torch.zeros(1, 3, 224, 224), n_outputs=3)
    x = torch.rand(batch, 3, 224, 224) * 255
    with torch.no_grad():
        expected = net(x)
    got = ort(x)
    assert len(got) == 3
    for a, b in zip(got, expected):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-4), float((a - b).abs().max())
    with pytest.raises(ValueError, match="does not match"):
        ort(torch.rand(1, 3, 112, 112))


def test_mobilenet_features_match_torch_for_frames_of_any_size():
    from eval.metrics.nets.mobilenet import MobileNetV2Features, OrtMobileNetV2Features

    torch.manual_seed(1)
    net = MobileNetV2Features(None).eval()
    ort = OrtMobileNetV2Features(net)
    for size in (64, 224, 256):  # the resize to 224 stays in torch
        images = torch.rand(3, 3, size, size)
        with torch.no_grad():
            expected = net(images)
        got = ort(images)
        assert got.shape == (3, 1280)
        assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5), float((got - expected).abs().max())


def test_fid_and_diversity_on_a_real_clip_agree_across_runtimes():
    """The shipped MobileNetV2 and WHENet weights on a real clip: each metric really runs its
    network in the runtime it reports, features and angles agree to float rounding, and the runtime
    is in each metric's info and (not torch) in its score identity and pose cache key."""
    from eval.metrics import visual
    from eval.metrics.diversity import Diversity
    from eval.metrics.fid import FID
    from eval.metrics.nets.mobilenet import OrtMobileNetV2Features
    from eval.metrics.sample import Sample
    from eval.run.score import metric_identity

    clip = sorted(REAL.glob("*.mp4"))[0]
    sample = Sample(clip.stem, gen_video=clip)
    frames = visual.frames(sample, "gen_video")[:24]
    fids = {runtime: FID("fd_mobilenetv2", runtime=runtime) for runtime in ("torch", "onnxruntime")}
    assert FID("fd_mobilenetv2").runtime == "onnxruntime"
    assert isinstance(fids["onnxruntime"].network(), OrtMobileNetV2Features)
    assert isinstance(fids["torch"].network(), torch.nn.Module)
    features = {runtime: metric.features(frames) for runtime, metric in fids.items()}
    scale = np.abs(features["torch"]).max()
    assert scale > 0.1  # real features, not zeros
    assert np.abs(features["onnxruntime"] - features["torch"]).max() <= 1e-5 * scale
    assert fids["onnxruntime"].info["runtime"] == "onnxruntime"
    assert metric_identity(fids["onnxruntime"])["runtime"] == "onnxruntime"
    assert "runtime" not in metric_identity(fids["torch"])  # scores cached before runtimes existed stay valid

    metrics = {runtime: Diversity("whenet", frame_stride=4, runtime=runtime) for runtime in ("torch", "onnxruntime")}
    assert isinstance(metrics["onnxruntime"].network(), OrtNetwork)
    assert isinstance(metrics["torch"].network(), torch.nn.Module)
    tracks = {runtime: metric.pose_track(sample)[0] for runtime, metric in metrics.items()}  # one shared sample
    assert tracks["torch"] is not tracks["onnxruntime"]  # separate cache entries
    assert np.abs(tracks["torch"] - tracks["onnxruntime"]).max() < 1e-3  # degrees
    scores = {runtime: metric.update(sample)["diversity"] for runtime, metric in metrics.items()}
    assert all(metric.info["runtime"] == runtime for runtime, metric in metrics.items())
    assert scores["torch"] > 0.5  # a talking head moves
    assert scores["onnxruntime"] == pytest.approx(scores["torch"], rel=1e-5)


def test_paper_backends_stay_in_torch():
    from eval.metrics import create
    from eval.metrics.fid import FID
    from eval.run.score import metric_identity

    assert FID("pytorch-fid").runtime == "torch"
    with pytest.raises(ValueError, match="paper backend"):
        FID("pytorch-fid", runtime="onnxruntime")
    assert "runtime" not in metric_identity(create("mcd"))  # metrics without a choice keep their score keys
