"""LRS3 manifests (`python -m eval.splits freeze lrs3`) on a fake LRS3-layout tree.

The tree is built from the real clips of ``tests/data/real_av`` (validation data, not
trained on) with transcripts written here, including the release's ``{LG}``/``{NS}`` tags,
a clip without transcript and one whose transcript is only tags.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval.data import lrs3
from ttsf.data.manifest import ManifestError
from ttsf.hashing import sha256_file

REAL = Path(__file__).resolve().parents[2] / "data" / "real_av"

#: (set, speaker, clip, source clip, Text: line or None for no .txt)
LAYOUT = [
    ("pretrain", "0af00UcTOSc", "00001", "audio_00015.mp4", "SO WE {LG} STARTED  THERE"),
    ("pretrain", "0af00UcTOSc", "00002", "audio_00086.mp4", "AND THEN {NS} IT WAS {LG}"),
    ("pretrain", "1BHOflzxPjI", "00001", "input_00002.mp4", "{LG} {NS}"),  # only tags: rejected
    ("trainval", "5ZA1Bp3SKgk", "50001", "pose_00473.mp4", "WHAT ARE YOU DOING"),
    ("trainval", "5ZA1Bp3SKgk", "50002", "input_00010.mp4", None),  # no transcript: rejected
    ("test", "0Fi83BHQsMA", "00002", "pose_517600055.mp4", "I THINK THAT'S RIGHT"),
]


def make_lrs3_tree(root: Path, layout=LAYOUT) -> Path:
    """``root/lrs3/<set>/<spk>/<clip>.mp4`` (+ ``.txt``) as the LRS3 release lays them out."""
    for set_name, spk, clip, src, text in layout:
        d = root / "lrs3" / set_name / spk
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REAL / src, d / f"{clip}.mp4")
        if text is not None:
            (d / f"{clip}.txt").write_text(f"Text:  {text}\nConf:  4\nRef:   https://www.youtube.com/watch?v={spk}\n\n"
                                           "WORD START END ASDSCORE\nSO 0.10 0.30 2.1\n", "utf-8")
    return root


def test_clean_transcript_rule():
    assert lrs3.clean_transcript("Text:  SO WE {LG} STARTED  THERE\nConf: 4\n") == "SO WE STARTED THERE"
    assert lrs3.clean_transcript("Text:  {NS} {LG}\n") == ""
    assert lrs3.clean_transcript("Text: HELLO{NS}WORLD\n") == "HELLO WORLD"


def test_freeze_lrs3_writes_checked_manifests(tmp_path, capsys):
    from eval import splits as cli
    from ttsf import media

    make_lrs3_tree(tmp_path)
    assert cli.main(["freeze", "lrs3", "--data-root", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rejected"] == 2
    root = tmp_path / "lrs3"
    record = json.loads((root / "lrs3_freeze.json").read_text())
    assert set(record["rejected"]) == {"pretrain/1BHOflzxPjI/00001", "trainval/5ZA1Bp3SKgk/50002"}
    assert "empty" in record["rejected"]["pretrain/1BHOflzxPjI/00001"]
    assert "no transcript" in record["rejected"]["trainval/5ZA1Bp3SKgk/50002"]
    assert {k: v["items"] for k, v in record["manifests"].items()} == {
        "lrs3_pretrain": 2, "lrs3_trainval": 1, "lrs3_test": 1, "lrs3_pretrain_trainval": 3}

    m = lrs3.load_lrs3_manifest("lrs3_pretrain_trainval", tmp_path)
    assert m.ids() == ["pretrain/0af00UcTOSc/00001", "pretrain/0af00UcTOSc/00002", "trainval/5ZA1Bp3SKgk/50001"]
    item = m.by_id()["pretrain/0af00UcTOSc/00002"]
    assert item.text == "AND THEN IT WAS" and item.speaker == "0af00UcTOSc"
    assert item.ref_video == item.ref_audio == item.source.path == "pretrain/0af00UcTOSc/00002.mp4"
    assert item.meta["sha256"]["video"] == sha256_file(REAL / "audio_00086.mp4")
    assert item.meta["sha256"]["transcript"] == sha256_file(root / "pretrain/0af00UcTOSc/00002.txt")
    assert item.duration == pytest.approx(media.probe(REAL / "audio_00086.mp4")["video"]["seconds"], abs=1e-3)
    assert record["manifests"]["lrs3_pretrain_trainval"]["sha256"] == sha256_file(root / "lrs3_pretrain_trainval.jsonl")

    # the same decode validation lrs2_test gets, through the split registry
    assert cli.main(["validate", "lrs3_test", "--data-root", str(tmp_path)]) == 0
    assert "1/1 items OK" in capsys.readouterr().out

    # a modified manifest is refused
    path = root / "lrs3_test.jsonl"
    path.write_text(path.read_text().replace("RIGHT", "WRONG"))
    with pytest.raises(ManifestError, match="modified"):
        lrs3.load_lrs3_manifest("lrs3_test", tmp_path)


def test_freeze_lrs3_reports_bad_clips_and_missing_root(tmp_path, capsys):
    from eval import splits as cli

    assert cli.main(["freeze", "lrs3", "--data-root", str(tmp_path)]) == 1
    assert "lrs3 not found" in capsys.readouterr().err
    d = tmp_path / "lrs3" / "test" / "spk"
    d.mkdir(parents=True)
    (d / "00001.mp4").write_bytes(b"not a video")
    (d / "00001.txt").write_text("Text:  HELLO\n")
    assert cli.main(["freeze", "lrs3", "--data-root", str(tmp_path)]) == 1
    assert "no usable LRS3 clip" in capsys.readouterr().err
