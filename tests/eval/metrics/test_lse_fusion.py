"""lse/fused_offline: z-score fusion of lag curves, and the backend end to end on synthetic clips."""

import numpy as np
import pytest

from eval.metrics.functional.lse_fusion import fuse_curves, fused_lse, standardise


def _dip(lag_index, depth=1.0, span=31, seed=0):
    """A noisy distance curve over ``span`` lags with its minimum at ``lag_index``."""
    rng = np.random.default_rng(seed)
    curve = 10.0 + 0.05 * rng.standard_normal(span)
    curve[lag_index] -= depth
    return curve


def test_standardise_and_flat_curves():
    z = standardise(np.array([1.0, 2.0, 3.0, 6.0]))
    assert z.mean() == pytest.approx(0.0, abs=1e-12) and z.std() == pytest.approx(1.0)
    np.testing.assert_array_equal(standardise(np.full(5, 7.0)), np.zeros(5))


def test_fusion_ignores_each_curves_scale_and_weights_them_equally():
    a, b = _dip(15, seed=1), _dip(20, seed=2)
    np.testing.assert_allclose(fuse_curves([a, b]), fuse_curves([1000.0 * a - 3.0, 0.01 * b + 5.0]), atol=1e-12)
    np.testing.assert_allclose(fuse_curves([a, b]), (standardise(a) + standardise(b)) / 2, atol=1e-12)
    # a curve that agrees with another outvotes a third that dips elsewhere
    assert int(np.argmin(fuse_curves([_dip(12, seed=3), _dip(12, seed=4), _dip(25, seed=5)]))) == 12
    # a flat curve (e.g. a still face) leaves the other's offset
    assert int(np.argmin(fuse_curves([np.ones(31), _dip(9)]))) == 9
    with pytest.raises(ValueError, match="one length"):
        fuse_curves([np.ones(31), np.ones(21)])
    with pytest.raises(ValueError, match="one length"):
        fuse_curves([])


def test_fused_lse_has_syncnet_semantics():
    vshift = 15
    out = fused_lse([_dip(vshift - 3, 2.0, seed=6), _dip(vshift - 3, 0.5, seed=7)], vshift)
    assert out["offset"] == 3  # vshift - argmin, positive = audio leads
    fused = out["mean_dist"]
    assert out["lse_d"] == pytest.approx(fused.min()) and out["lse_d"] < 0
    assert out["lse_c"] == pytest.approx(float(np.sort(fused)[15] - fused.min())) and out["lse_c"] > 0
    with pytest.raises(ValueError, match="vshift"):
        fused_lse([np.ones(21)], vshift)


def test_fused_offline_backend_on_the_synthetic_test_split(tiny_corpus, tmp_path):
    """The metric end to end (YuNet crops, SyncNet and dlib landmarks on the same item): in-sync
    clips near offset 0, a 5-frame delay of the audio found at -5."""
    from eval.metrics.lse import LSE
    from eval.metrics.sample import Sample
    from eval.synth.shift import shift_audio
    from ttsf.data.manifest import load_manifest, resolve
    from ttsf.media import read_audio, write_audio

    metric = LSE("fused_offline", vshift=10)
    items = list(load_manifest(tiny_corpus / "synth_test.jsonl"))[:4]
    in_sync, recovered = 0, 0
    for item in items:
        video = resolve(tiny_corpus, item.ref_video)
        wav, rate = read_audio(video.with_suffix(".wav")), 16000
        delayed = tmp_path / f"{item.id}_delayed.wav"
        write_audio(delayed, shift_audio(wav, 5), rate)
        own = metric.score(Sample(item.id, gen_video=video))
        late = metric.score(Sample(item.id + "_late", gen_video=video, gen_audio=delayed))
        assert own["lse_d"] < 0 < own["lse_c"] and own["windows"] >= 26
        in_sync += abs(own["offset"]) <= 1
        recovered += abs(late["offset"] + 5) <= 1
    assert in_sync >= 3 and recovered >= 3, (in_sync, recovered)
    assert metric.weights_sha256 is not None  # the SyncNet's, recorded like syncnet_offline's
    # the score is the fusion of both base curves of the item, not the SyncNet's alone
    from eval.metrics import visual
    from eval.metrics.functional.lse import lse_from_curve

    sample = Sample(items[0].id, gen_video=resolve(tiny_corpus, items[0].ref_video))
    n_frames = len(visual.frames(sample, "gen_video"))
    syncnet, landmarks = metric._syncnet_curve(sample, n_frames)[0], metric._landmark_curve(sample, n_frames)[0]
    expected = fused_lse([syncnet, landmarks], 10)
    got = metric.score(sample)
    assert got["lse_c"] == pytest.approx(expected["lse_c"]) and got["lse_d"] == pytest.approx(expected["lse_d"])
    assert got["offset"] == expected["offset"]
    assert abs(got["lse_c"] - fused_lse([syncnet], 10)["lse_c"]) > 1e-3
    assert abs(got["lse_c"] - fused_lse([landmarks], 10)["lse_c"]) > 1e-3
    cca = LSE("landmark_cca", vshift=10).score(sample)
    assert lse_from_curve(landmarks, 10)["lse_d"] == pytest.approx(cca["lse_d"])
