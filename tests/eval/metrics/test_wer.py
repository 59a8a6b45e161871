"""WER: parity with jiwer (+ Whisper's normaliser), validity with real ASR, bad input, merging."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.metrics import create
from eval.metrics.base import ItemError
from eval.metrics.functional.wer import EditCounts, corpus_counts, edit_counts
from eval.metrics.sample import Sample
from eval.metrics.wer import normalize
from ttsf.weights.errors import MissingWeights

from .conftest import SENTENCE_A


def test_edit_counts_match_jiwer_on_random_word_lists():
    import jiwer

    rng = np.random.default_rng(0)
    vocab = ["a", "b", "c", "d", "e"]
    refs, hyps = [], []
    for _ in range(300):
        ref = list(rng.choice(vocab, size=rng.integers(1, 10)))
        hyp = list(rng.choice(vocab, size=rng.integers(0, 10)))
        ours = edit_counts(ref, hyp)
        out = jiwer.process_words(" ".join(ref), " ".join(hyp))
        assert ours.errors == out.substitutions + out.deletions + out.insertions
        assert ours.hits + ours.substitutions + ours.deletions == len(ref)
        assert ours.hits + ours.substitutions + ours.insertions == len(hyp)
        assert ours.wer() == pytest.approx(out.wer)
        refs.append(ref)
        hyps.append(hyp)
    corpus = jiwer.wer([" ".join(r) for r in refs], [" ".join(h) for h in hyps])
    assert corpus_counts(refs, hyps).wer() == pytest.approx(corpus, rel=1e-12)


def test_corpus_wer_equals_jiwer_with_whispers_normaliser():
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    pairs = [
        ("Mr. Smith paid $20 for the colour TV!", "mister smith paid twenty dollars for the color tv"),
        ("It's 5 o'clock, isn't it?", "its five oclock isnt it"),
        ("Hello, WORLD.", "hello word and more"),
    ]
    norm = EnglishTextNormalizer()
    expected = jiwer.wer([norm(r) for r, _ in pairs], [norm(h) for _, h in pairs])
    total = EditCounts()
    for ref, hyp in pairs:
        total = total + edit_counts(normalize(ref), normalize(hyp))
    assert total.wer() == pytest.approx(expected, rel=1e-12)
    assert normalize("Mr. Smith paid $20") == ["mister", "smith", "paid", "$20"]
    assert math.isnan(EditCounts().wer())


def test_wer_rises_with_word_substitutions_and_noise(speech, offline_wer, tmp_path):
    from ttsf.media import read_audio, write_audio

    clean = Sample("clean", gen_audio=speech["slt_a"], text=SENTENCE_A)
    base = offline_wer.update(clean)
    assert base["ref_words"] == 15 and base["wer"] <= 20.0
    # the same transcript scored against a text with 4 words replaced: exactly 4 more errors at most
    swapped = Sample("swapped", gen_audio=speech["slt_a"], cache=clean.cache,
                     text=SENTENCE_A.replace("Stella", "Bella").replace("store", "shop")
                     .replace("bring", "take").replace("things", "boxes"))
    changed = offline_wer.update(swapped)
    assert base["errors"] < changed["errors"] <= base["errors"] + 4
    rng = np.random.default_rng(0)
    wav = read_audio(speech["slt_a"], 16000)
    noise = rng.normal(size=wav.shape).astype(np.float32) * np.sqrt(np.mean(wav**2)) * 10 ** (10 / 20)  # SNR -10 dB
    noisy_path = write_audio(tmp_path / "noisy.wav", wav + noise, 16000)
    noisy = offline_wer.update(Sample("noisy", gen_audio=noisy_path, text=SENTENCE_A))
    assert noisy["wer"] > base["wer"] + 20.0
    result = offline_wer.compute()
    assert result["ref_words"] == 45 and result["wer"] == pytest.approx(
        100.0 * (base["errors"] + changed["errors"] + noisy["errors"]) / 45)
    # shards merge to the same corpus value
    shard = create("wer", backend="faster-whisper-base", threads=2)
    shard.update(Sample("clean2", gen_audio=speech["slt_a"], text=SENTENCE_A, cache=clean.cache))
    merged = create("wer", backend="faster-whisper-base", threads=2)
    merged.merge(offline_wer.state())
    merged.merge(shard.state())
    assert merged.compute()["errors"] == result["errors"] + base["errors"]
    assert merged.transcripts["clean2"] == offline_wer.transcripts["clean"]


def test_bad_input_is_an_item_error(speech, offline_wer):
    with pytest.raises(ItemError) as info:
        offline_wer.update(Sample("silent", gen_audio=speech["silence"], text=SENTENCE_A))
    assert info.value.code == "silent_audio"
    with pytest.raises(ItemError) as info:
        offline_wer.update(Sample("empty", gen_audio=speech["slt_a"], text="Uh, um!"))  # fillers only
    assert info.value.code == "empty_transcript"
    with pytest.raises(ItemError) as info:
        offline_wer.update(Sample("notext", gen_audio=speech["slt_a"]))
    assert info.value.code == "missing_input"


def test_paper_backend_without_weights_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path / "w"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(MissingWeights) as info:
        create("wer")
    assert "large-v3.pt" in str(info.value) and "e5b1a55b89c1367d" in str(info.value)
    with pytest.raises(MissingWeights, match="small.pt"):
        create("wer", model="small")


def test_whisper_backend_pipeline_with_seeded_random_weights(speech, tmp_path):
    """Our openai-whisper path (checkpoint file, decoding, normaliser, WER) equals calling it directly."""
    import jiwer
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper
    from whisper.normalizers import EnglishTextNormalizer

    from ttsf.media import read_audio

    torch.manual_seed(0)
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
                           n_vocab=51865, n_text_ctx=40, n_text_state=32, n_text_head=2, n_text_layer=1)
    checkpoint = tmp_path / "random_tiny.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": Whisper(dims).state_dict()}, checkpoint)
    text = "Please call Stella"
    wav = read_audio(speech["slt_a"], 16000)[:16000]
    clip = tmp_path / "clip.wav"
    from ttsf.media import write_audio

    write_audio(clip, wav, 16000)
    metric = create("wer", backend="whisper", checkpoint=str(checkpoint))
    values = metric.update(Sample("r", gen_audio=clip, text=text))
    direct = whisper.load_model(str(checkpoint), device="cpu").transcribe(
        read_audio(clip, 16000), language="en", temperature=0.0, beam_size=5, fp16=False)["text"].strip()
    assert metric.transcripts["r"] == direct
    norm = EnglishTextNormalizer()
    hyp = norm(direct)
    expected = jiwer.wer(norm(text), hyp) if hyp.strip() else 1.0  # empty hypothesis: all deletions
    assert values["wer"] == pytest.approx(100.0 * expected)
    assert metric.info["weights_sha256"] == __import__("hashlib").sha256(checkpoint.read_bytes()).hexdigest()
    assert metric.info["model"] == "checkpoint random_tiny.pt" and metric.info["weights"] is None


def test_asr_factory_survives_the_import_of_its_namesake_submodule():
    """``asr.openai_whisper`` stays the factory after ``eval.metrics.asr.openai_whisper`` is imported."""
    import importlib

    from eval.metrics import asr

    importlib.import_module("eval.metrics.asr.openai_whisper")
    assert callable(asr.openai_whisper) and hasattr(asr.openai_whisper, "cache_clear")
