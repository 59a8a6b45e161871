import numpy as np
import pytest
import torch

from eval.metrics.fid import FID
from eval.metrics.nets.reference import PT_INCEPTION, save_random_fid_inception
from eval.metrics.sample import Sample
from ttsf.weights.errors import MissingWeights


def _write_clip(path, frames):
    from ttsf.media import write_video

    write_video(path, frames, fps=25)
    return path


@pytest.fixture
def random_inception(tmp_path, monkeypatch):
    """Seeded random FID-Inception weights saved where pytorch-fid looks for them."""
    path = save_random_fid_inception(tmp_path / "torch")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return path


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

    from eval.metrics import visual
    from ttsf.data.manifest import load_manifest, resolve

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


# ---------------------------------------------------------------- bootstrap confidence interval
def _clip_fid(k, frames=4, shift=5.0, seed=0, ids=None, **options):
    """fd_mobilenetv2 state (1280-d, no network) from ``k`` random clips per side, paired by id.

    Clip means vary (spread 0.5) so clips are the unit of sampling; the reference is shifted
    by ``shift`` in every dimension."""
    rng = np.random.default_rng(seed)
    metric = FID("fd_mobilenetv2", **options)
    for i in range(k):
        clip = f"spk{i % 3}/{i:04d}"
        if ids is None or clip in ids:
            metric.add_features("gen", rng.standard_normal((frames, 1280)) + 0.5 * rng.standard_normal(1280), clip=clip)
            metric.add_features("ref", rng.standard_normal((frames, 1280)) + shift + 0.5 * rng.standard_normal(1280),
                                clip=clip)
        else:
            rng.standard_normal((2 * frames + 2, 1280))  # keep the stream aligned with the unsharded state
    return metric


def test_ci_contains_the_point_estimate(monkeypatch):
    """A large real difference (mean term ~32000) against FD's bootstrap bias (~100 here):
    the interval brackets the estimate. Near FD's noise floor it need not (see docs/metrics.md)."""
    metric = _clip_fid(24, bootstrap=100)
    value = metric.compute()["fd_mobilenetv2"]
    out = metric.corpus_ci(seed=0)["fd_mobilenetv2"]
    lo, hi = out["ci95"]
    assert lo <= value <= hi and 0 < hi - lo < 0.05 * value
    assert out["reason"] is None and out["method"].startswith("percentile paired clip bootstrap over items (B=100)")
    boot = metric.info["bootstrap"]
    assert boot["items"] == 24 and boot["resamples"] == 100 and boot["dropped"] == 0 and boot["ci95"] == [lo, hi]
    assert boot["rank"] == 4 * 24 - 1  # 96 frames < 1280 dims: computed in the covariance's support
    assert not any("outside its bootstrap interval" in w for w in metric.info["warnings"])


def test_point_estimate_outside_the_interval_is_flagged():
    metric = _clip_fid(24, shift=0.0)  # FD is mostly small-sample bias: resamples sit above it
    value = metric.compute()["fd_mobilenetv2"]
    lo, hi = metric.corpus_ci(seed=0)["fd_mobilenetv2"]["ci95"]
    p_lo, p_hi = metric.info["bootstrap"]["percentile_ci95"]
    assert value < p_lo and lo == value and hi == p_hi  # the reported interval is widened to contain the value
    assert metric.info["bootstrap"]["below_estimate"] == 0.0 and metric.info["bootstrap"]["median_shift"] > 0
    assert any("outside its bootstrap interval" in w and "widened" in w for w in metric.info["warnings"])


def test_ci_narrows_with_more_clips():
    widths = {}
    for k in (8, 64):
        lo, hi = _clip_fid(k, seed=k, bootstrap=100).corpus_ci(seed=0)["fd_mobilenetv2"]["ci95"]
        widths[k] = hi - lo
    assert widths[64] < 0.6 * widths[8]  # ~ 1/sqrt(8) expected


def test_sharded_states_give_the_single_process_ci():
    from eval.cache import decode_state, encode_state

    whole = _clip_fid(10)
    ids = sorted(whole.state()["clip_ids_gen"])
    shard_a = _clip_fid(10, ids=set(ids[::2]))
    shard_b = _clip_fid(10, ids=set(ids[1::2]))
    merged = FID("fd_mobilenetv2")
    merged.merge(decode_state(encode_state(shard_b.state())))  # through the checkpoint format, other order
    merged.merge(decode_state(encode_state(shard_a.state())))
    assert merged.state()["clip_ids_ref"] == ids
    ours, single = merged.corpus_ci(seed=7)["fd_mobilenetv2"], whole.corpus_ci(seed=7)["fd_mobilenetv2"]
    np.testing.assert_allclose(ours["ci95"], single["ci95"], rtol=1e-9)
    assert whole.corpus_ci(seed=8)["fd_mobilenetv2"]["ci95"] != single["ci95"]  # the seed matters
    with pytest.raises(ValueError, match="in both states"):
        merged.merge(shard_a.state())


def test_no_ci_without_resamples_items_or_clip_ids():
    off = _clip_fid(6, bootstrap=0)
    out = off.corpus_ci(seed=0)["fd_mobilenetv2"]
    assert out["ci95"] is None and out["method"] is None and out["reason"] == "bootstrap disabled (bootstrap=0)"
    assert off.info["bootstrap"]["reason"] == out["reason"]
    one = _clip_fid(1, frames=6)
    assert one.corpus_ci()["fd_mobilenetv2"]["reason"].startswith("fewer than 2 items (1)")
    anonymous = _clip_fid(6)
    anonymous.add_features("gen", np.ones((3, 1280)))  # frames without a clip id
    assert "3 of 27 gen frames have no clip id" in anonymous.corpus_ci()["fd_mobilenetv2"]["reason"]
    with pytest.raises(ValueError, match="bootstrap"):
        FID("fd_mobilenetv2", bootstrap=-1)
    with pytest.raises(ValueError, match="already added"):
        anonymous.add_features("ref", np.ones((2, 1280)), clip="spk0/0000")


def test_negative_distance_is_clamped_at_zero_with_a_note_and_its_interval_contains_it(monkeypatch):
    """GT against itself gave FD -3.7e-05 with a 95% interval [-9e-12, -3e-12] (issue 18): the
    distance is reported as 0 (raw value kept and noted) and the interval contains 0."""
    import eval.metrics.fid as fid_module

    rng = np.random.default_rng(0)
    metric = FID("fd_mobilenetv2", bootstrap=50)
    for i in range(6):
        feats = rng.standard_normal((4, 1280)) + 0.5 * rng.standard_normal(1280)
        metric.add_features("gen", feats, clip=f"c{i}")
        metric.add_features("ref", feats, clip=f"c{i}")  # identical sets: the distance is 0 up to rounding
    monkeypatch.setattr(fid_module, "frechet_distance", lambda *a: -3.7e-05)
    value = metric.compute()["fd_mobilenetv2"]
    assert value == 0.0 and metric.info["clamped_from"] == -3.7e-05
    assert any("came out -3.7e-05" in w and "reported as 0" in w for w in metric.info["warnings"])
    lo, hi = metric.corpus_ci(seed=0)["fd_mobilenetv2"]["ci95"]
    assert 0.0 <= lo <= value <= hi
