"""The committed splits, their checksums, VoxCeleb2 freezing and `validate` on fake dataset trees."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.data import splits
from eval.data.selection import seeded_choice, seeded_subset
from ttsf import media
from ttsf.data.manifest import ManifestError, load_manifest

REPO = Path(__file__).resolve().parents[3]
OFFICIAL = [line.split()[0] for line in (REPO / "splits/lists/lrs2_test.txt").read_text().splitlines()]


def test_lrs2_manifest_has_exactly_the_official_ids():
    m = load_manifest(REPO / "splits/lrs2_test.jsonl")
    assert len(m) == 1243 and m.ids() == sorted(OFFICIAL)
    it = m.by_id()[OFFICIAL[0]]
    assert it.source.path == f"main/{OFFICIAL[0]}.mp4" and it.text_source == f"main/{OFFICIAL[0]}.txt"
    assert hashlib.sha256((REPO / "splits/lists/lrs2_test.txt").read_bytes()).hexdigest() == splits.LRS2_LIST_SHA256


def test_lrs2_subset_is_the_seeded_rule_and_files_are_regenerable(tmp_path):
    sub = load_manifest(REPO / "splits/lrs2_test_subset.jsonl")
    assert len(sub) == splits.LRS2_SUBSET_SIZE
    assert sub.ids() == seeded_subset(OFFICIAL, splits.LRS2_SUBSET_SIZE, splits.LRS2_SUBSET_SEED)
    assert set(sub.ids()) <= set(OFFICIAL)
    # rebuilding from the list reproduces the committed bytes
    work = tmp_path / "splits"
    shutil.copytree(REPO / "splits", work)
    digests = splits.build_lrs2(work)
    for name in ("lrs2_test", "lrs2_test_subset"):
        assert (work / f"{name}.jsonl").read_bytes() == (REPO / f"splits/{name}.jsonl").read_bytes()
        assert digests[name] == splits.read_checksums(REPO / "splits")[f"{name}.jsonl"]


def test_committed_checksums_verify_and_tampering_is_caught(tmp_path, monkeypatch):
    for name in splits.read_checksums(REPO / "splits"):
        splits.verify_file(name, REPO / "splits")
    work = tmp_path / "splits"
    shutil.copytree(REPO / "splits", work)
    monkeypatch.setenv("TTSF_SPLITS_DIR", str(work))
    with open(work / "lrs2_test_subset.jsonl", "a") as f:
        f.write("\n")
    with pytest.raises(ManifestError, match="was modified"):
        splits.split_manifest("lrs2_test_subset")


def test_vox2_lists_120_test_identities():
    ids = splits.vox2_test_ids(REPO / "splits")
    assert len(ids) == 120 == len(set(ids)) and ids == sorted(ids)


def test_seeded_choice_is_stable():
    keys = [f"k{i}" for i in range(50)]
    assert seeded_choice(keys, "s") == seeded_choice(list(reversed(keys)), "s")
    assert seeded_choice(keys, "s") != seeded_choice(keys, "t") or seeded_choice(keys, "u") != seeded_choice(keys, "s")


# ------------------------------------------------------------------- fake dataset trees


def _clip(path: Path, seconds=1.0, fps=25):
    t = int(seconds * fps)
    frames = np.full((t, 32, 32, 3), 90, np.uint8)
    audio = (0.1 * np.sin(np.arange(int(seconds * 16000)) * 0.05)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    media.write_video(path, frames, fps=fps, audio=audio)


@pytest.fixture
def fake_root(tmp_path):
    """A data root with LRS3 test transcripts and VoxCeleb2 clips for 3 of the 120 identities."""
    root = tmp_path / "data"
    ids = splits.vox2_test_ids(REPO / "splits")[:3]
    for n, ident in enumerate(ids):
        for yt in ("yt_a", "yt_b"):
            for c in range(2):
                _clip(root / "vox2/vox2_test_mp4/mp4" / ident / yt / f"0000{c}.mp4", seconds=0.6)
    for spk in ("spk1", "spk2"):
        for c in range(3):
            p = root / "lrs3/test" / spk / f"0000{c}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"Text:  SENTENCE {spk} {c}\nConf:  3\n")
    return root


def test_freeze_vox2_on_fake_tree(fake_root, tmp_path, monkeypatch):
    work = tmp_path / "splits"
    shutil.copytree(REPO / "splits", work)
    monkeypatch.setenv("TTSF_SPLITS_DIR", str(work))
    report = splits.freeze_vox2(fake_root)
    assert report["identities_found"] == 3 and len(report["identities_missing"]) == 117
    m = splits.split_manifest("vox2_test")
    assert len(m) == 3 and all(it.text.startswith("SENTENCE") for it in m)
    assert all(len(it.meta["sha256"]["source"]) == 64 for it in m)
    # deterministic: a second freeze writes the same bytes; SHA256SUMS lists the file
    first = (work / "vox2_test.jsonl").read_bytes()
    splits.freeze_vox2(fake_root)
    assert (work / "vox2_test.jsonl").read_bytes() == first
    assert "vox2_test.jsonl" in splits.read_checksums(work)
    # validate: every item decodes; then break one clip and see a per-item problem, exit 1
    from eval.data.validate import validate

    rep = validate(m, fake_root / "vox2")
    assert rep.ok, rep.summary()
    broken = fake_root / "vox2" / m.items[0].source.path
    broken.write_bytes(broken.read_bytes()[:900])
    rep = validate(m, fake_root / "vox2")
    assert not rep.ok and rep.n_ok == 2 and {p.id for p in rep.problems} == {m.items[0].id}


def _run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "eval.splits", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)


def test_validate_cli_on_fake_lrs2(tmp_path):
    import os

    root = tmp_path / "data"
    ids = OFFICIAL[:3]
    _clip(root / "lrs2/main" / f"{ids[0]}.mp4")
    (root / "lrs2/main" / f"{ids[0]}.txt").write_text("Text:  GOOD ONE\n")
    _clip(root / "lrs2/main" / f"{ids[1]}.mp4", seconds=0.12)  # implausibly short
    (root / "lrs2/main" / f"{ids[1]}.txt").write_bytes(b"Text:  \xff\xfe\n")  # not UTF-8
    # ids[2] missing entirely
    env = {**os.environ, "TTSF_DATA_ROOT": str(root)}
    out = _run_cli("validate", "lrs2_test", "--limit", "3", "--json", env=env)
    assert out.returncode == 1, out.stderr
    rep = json.loads(out.stdout)
    assert rep["n_items"] == 3 and rep["n_ok"] == 1
    reasons = {(p["id"], p["role"]): p["reason"] for p in rep["problems"]}
    assert "implausible duration" in reasons[(ids[1], "source")]
    assert "not UTF-8" in reasons[(ids[1], "text")]
    assert "missing file" in reasons[(ids[2], "source")]
    # no data root at all: a clear message, exit 1
    env.pop("TTSF_DATA_ROOT")
    out = _run_cli("validate", "lrs2_test", env=env)
    assert out.returncode == 1 and "pass --data-root DIR or set TTSF_DATA_ROOT" in out.stdout
    assert "0/1243" in out.stdout


def test_unknown_split_suggests():
    from ttsf.names import UnknownName

    with pytest.raises(UnknownName, match="Did you mean: lrs2_test"):
        splits.split_def("lrs2_tset")


def test_spread_subset_covers_speakers_and_is_deterministic():
    from eval.data.selection import spread_subset
    from ttsf.data.manifest import item_from_dict

    items = [item_from_dict(dict(id=f"id{s}/{c:03d}", dataset="synth", speaker=f"id{s}", text="t", text_source=None,
                                 source={"path": "x.mp4", "frame": 0}, ref_video=None, ref_audio=None, duration=None))
             for s in range(3) for c in range(5)]
    sub = spread_subset(items, 4, "seed")
    assert [it.id for it in sub] == sorted(it.id for it in sub)
    assert {it.speaker for it in sub} == {"id0", "id1", "id2"}  # first K ids would all be id0
    assert [it.id for it in spread_subset(list(reversed(items)), 4, "seed")] == [it.id for it in sub]
    assert len(spread_subset(items, 15, "seed")) == 15
    # fewer items than speakers: which speakers is seeded, not alphabetical
    firsts = {tuple(sorted({it.speaker for it in spread_subset(items, 1, f"s{i}")})) for i in range(12)}
    assert len(firsts) > 1
    with pytest.raises(ValueError):
        spread_subset(items, 16, "seed")
