import numpy as np
import pytest
import torch

from eval.metrics.base import MissingWeights
from eval.metrics.fid import FID
from eval.metrics.sample import Sample

PT_INCEPTION = "pt_inception-2015-12-05-6726825d.pth"


def _write_clip(path, frames):
    from ttsf.media import write_video

    write_video(path, frames, fps=25)
    return path


@pytest.fixture
def random_inception(tmp_path, monkeypatch):
    """Seeded random FID-Inception weights saved where pytorch-fid looks for them."""
    from eval.metrics.nets.inception import InceptionPool3, build_fid_inception

    torch.manual_seed(0)
    net = build_fid_inception(None)
    for module in net.modules():  # calibrate BatchNorm so random features are not degenerate
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 1.0
    with torch.no_grad():
        InceptionPool3(net).train()(torch.rand(2, 3, 32, 32))
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.save(net.state_dict(), hub / PT_INCEPTION)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return hub / PT_INCEPTION


def test_parity_with_pytorch_fid(tmp_path, random_inception):
    from PIL import Image
    from pytorch_fid.fid_score import calculate_fid_given_paths

    from eval.metrics import visual

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    gen = _write_clip(tmp_path / "gen.mp4", (rng.random((2, 48, 48, 3)) * 180).astype(np.uint8))
    ref = _write_clip(tmp_path / "ref.mp4", (rng.random((2, 48, 48, 3)) * 255).astype(np.uint8))
    sample = Sample("a", gen_video=gen, ref_video=ref)
    metric = FID("pytorch-fid", weights=random_inception)
    assert metric.update(sample) is None
    ours = metric.compute()["fid"]
    dirs = []
    for field in ("gen_video", "ref_video"):  # the very frames our pipeline decoded
        folder = tmp_path / field
        folder.mkdir()
        for i, frame in enumerate(visual.frames(sample, field)):
            Image.fromarray(frame).save(folder / f"{i}.png")
        dirs.append(str(folder))
    reference = calculate_fid_given_paths(dirs, batch_size=8, device="cpu", dims=2048, num_workers=0)
    assert reference > 1.0  # features are not degenerate
    assert abs(ours - reference) / reference <= 1e-3
    assert metric.info["n_gen"] == 2 and "bilinear 299" in metric.info["resize"]
    assert any("2 frames < 2048" in w for w in metric.info["warnings"])


def test_shards_merge_exactly():
    rng = np.random.default_rng(1)
    gen, ref = rng.standard_normal((60, 1280)), rng.standard_normal((70, 1280)) + 0.5
    whole = FID("fd_mobilenetv2")
    whole.add_features("gen", gen)
    whole.add_features("ref", ref)
    shard_a, shard_b = FID("fd_mobilenetv2"), FID("fd_mobilenetv2")
    shard_a.add_features("gen", gen[:25])
    shard_a.add_features("ref", ref[:40])
    shard_b.add_features("gen", gen[25:])
    shard_b.add_features("ref", ref[40:])
    shard_a.merge(shard_b.state())
    merged, single = shard_a.state(), whole.state()
    for key in ("sum_gen", "sum_ref", "outer_gen", "outer_ref"):
        np.testing.assert_allclose(merged[key], single[key], rtol=1e-12, atol=1e-9)
    assert (merged["n_gen"], merged["n_ref"]) == (60, 70)
    with pytest.raises(ValueError):
        FID("pytorch-fid").merge(shard_b.state())


def test_fd_grows_with_blur(tiny_corpus):
    import cv2

    from eval.data.manifest import load_manifest, resolve
    from eval.metrics import visual

    torch.set_num_threads(1)
    item = list(load_manifest(tiny_corpus / "synth_test.jsonl"))[0]
    frames = visual.frames(Sample(item.id, gen_video=resolve(tiny_corpus, item.ref_video)))[::2]
    probe = FID("fd_mobilenetv2")
    ref = probe.features(frames)
    values = {}
    for sigma in (0.0, 1.5, 4.0):
        metric = FID("fd_mobilenetv2")
        metric._net = probe.network()
        blurred = np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames]) if sigma else frames
        metric.add_features("gen", metric.features(blurred))
        metric.add_features("ref", ref)
        values[sigma] = metric.compute()["fd_mobilenetv2"]
    assert abs(values[0.0]) < 0.01 * values[1.5]  # identical features: only eigen-solver noise
    assert values[1.5] < values[4.0]


def test_missing_inception_weights_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(MissingWeights, match=PT_INCEPTION):
        FID("pytorch-fid").network()
