"""C-SIM: Resemblyzer parity, same voice > other voice, x-vector backend errors, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics import create
from eval.metrics.base import ItemError
from eval.metrics.sample import Sample
from ttsf.media import read_audio
from ttsf.weights.errors import MissingWeights


def test_dvector_equals_resemblyzer_voice_encoder(speech):
    from resemblyzer import VoiceEncoder, preprocess_wav

    from eval.metrics.speaker.dvector import DVectorEncoder, embed_utterance, preprocess
    from ttsf import weights

    wav = read_audio(speech["slt_a"], 16000)
    reference = VoiceEncoder("cpu", verbose=False).embed_utterance(preprocess_wav(wav))
    ours = embed_utterance(DVectorEncoder(weights.locate("resemblyzer")).eval(), preprocess(wav, 16000))
    assert ours.shape == (256,)
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_same_voice_scores_higher_than_other_voices(speech):
    metric = create("csim", backend="resemblyzer")
    same = metric.update(Sample("same", gen_audio=speech["slt_b"], ref_audio=speech["slt_a"]))["csim"]
    others = [metric.update(Sample(v, gen_audio=speech[f"{v}_a"], ref_audio=speech["slt_a"]))["csim"]
              for v in ("rms", "awb")]
    identical = metric.update(Sample("id", gen_audio=speech["slt_a"], ref_audio=speech["slt_a"]))["csim"]
    assert identical == pytest.approx(1.0, abs=1e-6)
    assert same > 0.8 and max(others) < same - 0.15
    result = metric.compute()
    assert result["n_items"] == 4 and result["csim"] == pytest.approx(np.mean([same, *others, identical]))
    assert metric.info["paper_comparable"] is False and metric.info["weights_sha256"].startswith("39373b86")


def test_silent_audio_is_an_item_error(speech):
    metric = create("csim", backend="resemblyzer")
    with pytest.raises(ItemError) as info:
        metric.update(Sample("s", gen_audio=speech["silence"], ref_audio=speech["slt_a"]))
    assert info.value.code == "silent_audio"


def test_xvector_backend_names_missing_files_then_missing_package(tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path))
    with pytest.raises(MissingWeights) as info:
        create("csim")  # the paper backend is the default
    text = str(info.value)
    assert "embedding_model.ckpt" in text and "hyperparams.yaml" in text
    assert f"put all 5 files in: {tmp_path / 'spkrec-xvect-voxceleb'}/" in text
    assert "python -m eval.weights download xvect_voxceleb" in text
    folder = tmp_path / "spkrec-xvect-voxceleb"
    folder.mkdir()
    for name in ("embedding_model.ckpt", "hyperparams.yaml", "mean_var_norm_emb.ckpt", "classifier.ckpt",
                 "label_encoder.txt"):
        # .ckpt files start like torch.save's zip format (unpinned weights are checked by their leading bytes)
        (folder / name).write_bytes((b"PK\x03\x04" if name.endswith(".ckpt") else b"") + b"placeholder")
    assert importlib.util.find_spec("speechbrain") is None  # not a ttsf-bench dependency
    with pytest.raises(ImportError, match="pip install speechbrain torchaudio"):
        create("csim", backend="xvector")
