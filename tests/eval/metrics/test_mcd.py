"""MCD: parity with pymcd called directly, validity on pitch shifts, bad input, merging."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics import create
from eval.metrics.base import ItemError
from eval.metrics.functional.mcd import LOG_SPEC_DB_CONST, mcd_from_mcep
from eval.metrics.sample import Sample


@pytest.mark.parametrize("mode", ["dtw", "plain"])
def test_parity_with_pymcd(speech, mode):
    from pymcd.mcd import Calculate_MCD

    reference = Calculate_MCD(MCD_mode=mode).calculate_mcd(str(speech["slt_a"]), str(speech["rms_a"]))
    metric = create("mcd", mode=mode)
    ours = metric.update(Sample("x", gen_audio=speech["rms_a"], ref_audio=speech["slt_a"]))["mcd"]
    assert reference > 4.0  # two different speakers are far apart
    assert ours == pytest.approx(reference, rel=1e-9, abs=1e-9)


def test_dtw_sl_scales_by_the_length_ratio():
    rng = np.random.default_rng(0)
    ref, syn = rng.normal(size=(40, 14)), rng.normal(size=(20, 14))
    dtw, sl = mcd_from_mcep(ref, syn, "dtw"), mcd_from_mcep(ref, syn, "dtw_sl")
    assert sl.value == pytest.approx(2.0 * dtw.value)
    same = mcd_from_mcep(ref, ref + np.eye(14)[0] * 0.5, "plain")  # constant c0 offset of 0.5
    assert same.value == pytest.approx(LOG_SPEC_DB_CONST * 0.5)


def test_zero_on_identical_audio_and_grows_with_pitch_shift(speech):
    metric = create("mcd")
    values = [
        metric.update(Sample(f"up{k}", gen_audio=speech[name], ref_audio=speech["slt_a"]))["mcd"]
        for k, name in [(0, "slt_a"), (2, "slt_a_up2"), (4, "slt_a_up4")]
    ]
    assert values[0] == 0.0
    assert 0.5 < values[1] < values[2]
    result = metric.compute()
    assert result["n_items"] == 3 and result["mcd"] == pytest.approx(np.mean(values))
    assert metric.info["options"] == {"mode": "dtw"}


def test_bad_input_is_an_item_error_with_reason(speech, tmp_path):
    metric = create("mcd")
    with pytest.raises(ItemError) as info:
        metric.update(Sample("s", gen_audio=speech["silence"], ref_audio=speech["slt_a"]))
    assert info.value.code == "silent_audio" and "silent" in info.value.reason
    with pytest.raises(ItemError) as info:
        metric.update(Sample("m", gen_audio=tmp_path / "absent.wav", ref_audio=speech["slt_a"]))
    assert info.value.code == "missing_file"
    with pytest.raises(ItemError) as info:
        metric.update(Sample("r", gen_audio=speech["slt_a"]))
    assert info.value.code == "missing_input"
    with pytest.raises(ItemError, match="no item was scored") as info:  # missing with a reason, never 0 or NaN
        metric.compute()
    assert info.value.code == "empty"
    with pytest.raises(ValueError, match="mode"):
        create("mcd", mode="fast")


def test_shards_merge_exactly(speech):
    one, two, merged = create("mcd"), create("mcd"), create("mcd")
    a = one.update(Sample("a", gen_audio=speech["rms_a"], ref_audio=speech["slt_a"]))["mcd"]
    b = two.update(Sample("b", gen_audio=speech["slt_a_up2"], ref_audio=speech["slt_a"]))["mcd"]
    merged.merge(one.state())
    merged.merge(two.state())
    assert merged.compute() == {"mcd": np.mean([a, b]), "mcd_std": np.std([a, b]), "n_items": 2.0}
    with pytest.raises(ValueError, match="both shards"):
        merged.merge(two.state())
    with pytest.raises(ValueError, match="different backend/options"):
        create("mcd", mode="plain").merge(two.state())


def test_video_audio_track_on_the_synthetic_corpus(tiny_corpus):
    """A clip's AAC track vs its own PCM wav is near 0 dB; another clip is far."""
    from pathlib import Path

    from ttsf.data.manifest import load_manifest

    root = Path(tiny_corpus)
    items = load_manifest(root / "synth_test.jsonl").items
    metric = create("mcd")
    own = Sample("own", gen_video=root / items[0].ref_video, ref_audio=root / items[0].ref_audio)
    assert metric.update(own)["mcd"] < 0.5
    assert own.notes == ["gen_audio: taken from the audio track of gen_video"]
    other = Sample("other", gen_video=root / items[1].ref_video, ref_audio=root / items[0].ref_audio)
    assert metric.update(other)["mcd"] > 3.0
