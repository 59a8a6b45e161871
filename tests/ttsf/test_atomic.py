"""ttsf.atomic: the one temp-file-then-rename writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ttsf.atomic import atomic_open, atomic_path, atomic_save, atomic_write_bytes, atomic_write_json, atomic_write_text


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if ".tmp" in p.name]


def test_writes_replace_the_target_and_leave_no_temp_file(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01", fsync=True)
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    atomic_write_json(tmp_path / "c.json", {"b": np.int64(2), "a": Path("x"), "s": (1, 2)})
    assert (tmp_path / "c.json").read_text() == json.dumps({"a": "x", "b": 2, "s": [1, 2]}, indent=2) + "\n"
    assert _leftovers(tmp_path) == []


def test_a_failure_keeps_the_old_file_and_removes_the_temp_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target, "w") as handle:
            handle.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_a_folder_in_the_way_leaves_no_temp_file(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep")
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "out", "text")
    assert (tmp_path / "out" / "x").read_text() == "keep"
    assert _leftovers(tmp_path) == []


def test_suffix_is_kept_for_writers_that_choose_the_format_by_extension(tmp_path):
    seen = []

    def save(tmp):
        seen.append(tmp)
        np.savez(tmp, a=np.arange(3))

    out = atomic_save(tmp_path / "arrays.npz", save, ".npz")
    assert seen[0].suffix == ".npz" and seen[0].parent == tmp_path and seen[0].name.startswith(".arrays.npz.tmp")
    assert np.load(out)["a"].tolist() == [0, 1, 2]
    assert _leftovers(tmp_path) == []


def test_a_half_built_folder_is_removed(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "corpus") as tmp:
            tmp.mkdir()
            (tmp / "part.mp4").write_bytes(b"x")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(tmp_path / "corpus") as tmp:
        tmp.mkdir()
        (tmp / "done").write_text("ok")
    assert (tmp_path / "corpus" / "done").read_text() == "ok"


def test_temp_names_differ_within_one_process(tmp_path):
    names = []
    for _ in range(3):
        with atomic_path(tmp_path / "a.txt") as tmp:
            names.append(tmp.name)
            tmp.write_text("x")
    assert len(set(names)) == 3
