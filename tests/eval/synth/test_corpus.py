"""The tiny cached corpus: layout, ground-truth files, manifests and their consistency."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from eval.synth.config import PRESETS, lrs_text, sentences
from eval.synth.render import POSE_LIMITS
from ttsf.data.manifest import load_manifest, read_text
from ttsf.media import probe, read_audio, read_video

TINY = PRESETS["tiny"]


@pytest.fixture(scope="module")
def manifests(tiny_corpus):
    return {split: load_manifest(tiny_corpus / f"synth_{split}.jsonl") for split in ("train", "test")}


def _truth(root, item):
    return json.loads((root / item.ref_video).with_suffix(".json").read_text())


def test_layout_and_counts(tiny_corpus, manifests):
    items = [it for m in manifests.values() for it in m]
    assert len(items) == TINY.identities * TINY.clips
    assert sorted(p.name for p in (tiny_corpus / "faces").iterdir()) == [f"id{i:02d}.png" for i in range(8)]
    assert (tiny_corpus / ".done").is_file()
    for it in items:
        identity, clip = it.id.split("/")
        assert it.speaker == identity and it.dataset == "synth"
        stem = f"main/{identity}/{clip}"
        assert (it.ref_video, it.ref_audio, it.text_source) == (f"{stem}.mp4", f"{stem}.wav", f"{stem}.txt")
        assert it.source.path == it.ref_video and it.source.frame == 0
        for suffix in ("mp4", "wav", "txt", "json"):
            assert (tiny_corpus / f"{stem}.{suffix}").is_file()


def test_splits_hold_out_identities_and_sentences(tiny_corpus, manifests):
    train, test = manifests["train"], manifests["test"]
    train_ids = {it.speaker for it in train}
    unseen = {it.speaker for it in test} - train_ids
    assert len(unseen) >= 2
    assert not {it.text for it in test} & {it.text for it in train}
    assert all(it.meta["split"] == "train" for it in train) and all(it.meta["split"] == "test" for it in test)
    index = json.loads((tiny_corpus / "corpus.json").read_text())
    assert sorted(unseen) == index["split"]["test_identities"]
    # one fixed voice per identity, distinct across identities
    voice_of = {}
    for it in list(train) + list(test):
        assert voice_of.setdefault(it.speaker, it.meta["voice"]) == it.meta["voice"]
    assert len(set(voice_of.values())) == len(voice_of) == 8


def test_ground_truth_matches_media(tiny_corpus, manifests):
    item = manifests["train"].items[0]
    gt = _truth(tiny_corpus, item)
    video = read_video(tiny_corpus / item.ref_video)
    wav = read_audio(tiny_corpus / item.ref_audio)
    n = gt["n_frames"]
    assert video.frames.shape == (n, TINY.size, TINY.size, 3) and video.source_fps == 25
    assert wav.shape == (n * 640,) and gt["duration"] == pytest.approx(n / 25) == item.duration
    assert TINY.seconds / 2 <= gt["duration"] <= TINY.seconds
    # the mp4's AAC track carries the wav's samples
    track = video.audio[: wav.shape[0]]
    assert np.corrcoef(track, wav[: track.shape[0]])[0, 1] > 0.95
    info = probe(tiny_corpus / item.ref_video)
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    assert info["audio"]["sample_rate"] == 16000
    for key in ("yaw", "pitch", "roll", "mouth_open", "mouth_spread", "blink"):
        assert len(gt[key]) == n
    for key, limit in zip(("yaw", "pitch", "roll"), POSE_LIMITS):
        values = np.array(gt[key])
        assert np.abs(values).max() <= limit and np.ptp(values) > 0.5  # bounded, and it moves
        assert np.abs(np.diff(values)).max() < 4.0  # smooth: < 4 degrees per frame
    assert gt["av_offset_frames"] == 0 and gt["identity"] == item.speaker and gt["voice"] == item.meta["voice"]
    assert gt["text"] == item.text == sentences()[gt["sentence_index"]]
    assert gt["generator_version"] and gt["seed"] == TINY.seed


def test_mouth_follows_speech_energy(tiny_corpus, manifests):
    from eval.synth.faces import SCORE_THRESHOLD
    from eval.synth.lips import portrait_landmarks68
    from ttsf.pretrained.yunet import YuNet

    detector = YuNet(SCORE_THRESHOLD)
    for item in list(manifests["train"])[:3]:
        gt = _truth(tiny_corpus, item)
        mouth = np.array(gt["mouth_open"])
        wav = read_audio(tiny_corpus / item.ref_audio)
        rms = np.sqrt((wav.reshape(-1, 640).astype(np.float64) ** 2).mean(axis=1))
        assert mouth[:3].max() < 0.05  # 0.2 s of leading silence: closed
        assert mouth.max() > 0.7
        assert np.corrcoef(mouth, rms)[0, 1] > 0.6
        # and the rendered lips part when it opens: dlib's inner-lip gap on the decoded frames
        frames = read_video(tiny_corpus / item.ref_video).frames
        open_t, closed_t = int(mouth.argmax()), int(mouth.argmin())
        gap = {t: np.subtract(*portrait_landmarks68(frames[t], detector)[[66, 62], 1]) for t in (open_t, closed_t)}
        assert gap[open_t] > gap[closed_t] + 0.3 * gt["mouth_open_px_max"] * mouth[open_t], (item.id, gap)


def test_transcripts_are_lrs_style(tiny_corpus, manifests):
    for item in manifests["test"]:
        first = (tiny_corpus / item.text_source).read_text().splitlines()[0]
        assert first == f"Text:  {lrs_text(item.text)}"
        assert read_text(item, tiny_corpus) == item.text


def test_corpus_index_hashes_every_file(tiny_corpus):
    index = json.loads((tiny_corpus / "corpus.json").read_text())
    assert index["config"]["identities"] == 8 and index["config"]["size"] == TINY.size
    files = index["files"]
    assert len(files) == 8 + 16 * 4 + 3  # faces, clip files, two manifests + README
    for rel, digest in files.items():
        assert hashlib.sha256((tiny_corpus / rel).read_bytes()).hexdigest() == digest, rel
    content = hashlib.sha256("".join(f"{k} {v}\n" for k, v in sorted(files.items())).encode()).hexdigest()
    assert index["content_hash"] == content
    readme = (tiny_corpus / "README.md").read_text()
    assert "public domain" in readme and "t1.jpg" in readme and "Tom_Hanks_54745.png" in readme


def test_sentence_list():
    s = sentences()
    assert len(s) >= 200 and len(set(s)) == len(s)
    assert lrs_text("We met at the station cafe, didn't we?") == "WE MET AT THE STATION CAFE DIDN'T WE"
