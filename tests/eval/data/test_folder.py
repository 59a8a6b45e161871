"""A folder of clips as a split (``--split dir:PATH``, ``python -m eval.splits dir PATH``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval.data import folder, splits
from eval.data.validate import validate
from ttsf.data.manifest import ManifestError, load_manifest, read_text
from ttsf.hashing import sha256_file

REAL = Path(__file__).resolve().parents[2] / "data" / "real_av"
CLIPS = ("audio_00015.mp4", "pose_00473.mp4")


@pytest.fixture()
def clips_dir(tmp_path) -> Path:
    d = tmp_path / "mine"
    d.mkdir()
    for name in CLIPS:
        shutil.copy(REAL / name, d / name)
    (d / "audio_00015.txt").write_text("Text: hello there\n", "utf-8")
    (d / "broken.mp4").write_bytes(b"not a video at all")
    (d / "notes.md").write_text("ignored", "utf-8")
    return d


def test_folder_items_ids_hashes_and_transcripts(clips_dir):
    manifest, problems = folder.folder_manifest(clips_dir)
    assert problems == []
    assert manifest.ids() == ["audio_00015", "broken", "pose_00473"]  # every video file, sorted; notes.md ignored
    by_id = manifest.by_id()
    item = by_id["audio_00015"]
    assert item.source.path == item.ref_video == item.ref_audio == "audio_00015.mp4" and item.source.frame == 0
    assert item.meta["sha256"]["clip"] == sha256_file(REAL / "audio_00015.mp4")
    assert read_text(item, clips_dir) == "hello there"
    assert by_id["pose_00473"].meta["transcript"] == "none"
    with pytest.raises(ManifestError, match="pose_00473.txt"):
        read_text(by_id["pose_00473"], clips_dir)  # WER reports it per item
    # the manifest hash follows the clips' content
    before = manifest.sha256
    (clips_dir / "audio_00015.txt").write_text("another text", "utf-8")
    assert folder.folder_manifest(clips_dir)[0].sha256 != before


def test_bad_file_is_a_reported_item_not_dropped(clips_dir):
    manifest, _ = folder.folder_manifest(clips_dir)
    report = validate(manifest, clips_dir)
    assert report.n_items == 3 and report.n_ok == 2
    assert {p.id for p in report.problems} == {"broken"}  # no complaint about the missing optional transcript


def test_stem_collision_is_a_problem(clips_dir):
    shutil.copy(REAL / CLIPS[0], clips_dir / "pose_00473.mkv")
    manifest, problems = folder.folder_manifest(clips_dir)
    assert "pose_00473" not in manifest.ids()
    assert sorted(p.file for p in problems) == ["pose_00473.mkv", "pose_00473.mp4"]


def test_dir_split_loads_through_the_split_api(clips_dir):
    name = f"dir:{clips_dir}"
    assert splits.split_def(name).dataset == "dir"
    manifest, root = splits.load_split(name)
    assert root == clips_dir and len(manifest) == 3
    with pytest.raises(ManifestError, match="not a folder"):
        splits.load_split(f"dir:{clips_dir / 'nope'}")


def test_splits_dir_command_writes_manifest_and_reports(clips_dir, capsys):
    from eval.splits import main

    code = main(["dir", str(clips_dir), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # broken.mp4 is a problem
    written = clips_dir / folder.DEFAULT_MANIFEST
    assert out["manifest"] == str(written) and out["sha256"] == sha256_file(written)
    assert out["n_items"] == 3 and out["n_ok"] == 2 and out["problems"][0]["id"] == "broken"
    assert load_manifest(written).ids() == ["audio_00015", "broken", "pose_00473"]
    # the frozen manifest is a split too
    manifest, root = splits.load_split(f"dir:{written}")
    assert root == clips_dir and manifest.sha256 == out["sha256"]


def test_run_table1_on_a_folder(clips_dir, tmp_path, capsys):
    """gt on a folder split: scored clips, the broken file a per-item failure, folder-safe run id."""
    from eval.run.cli import main

    code = main(["--table", "1", "--split", f"dir:{clips_dir}", "--systems", "gt", "--offline",
                 "--metrics", "idsim", "--out", str(tmp_path / "runs"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    results = json.loads(next((tmp_path / "runs").glob("table1-dir-mine-*/results.json")).read_text())
    cell = results["scores"]["gt"]["idsim"]
    assert results["metrics"]["idsim"]["backend"] == "sface"
    assert cell["n"] == 2 and cell["n_failed"] == 1 and cell["value"] > 0.3
    assert "broken" in (tmp_path / "runs").glob("*/items.jsonl").__next__().read_text()
