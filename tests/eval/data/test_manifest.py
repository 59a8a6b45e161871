"""Manifest schema, ordering, canonical writing and path-escape refusal."""

import json
import os

import pytest

from ttsf.data.manifest import (
    Item,
    ManifestError,
    Source,
    item_from_dict,
    load_manifest,
    parse_manifest,
    read_text,
    resolve,
    write_manifest,
)


def _item(i="a/1", **kw):
    d = dict(id=i, dataset="lrs2", speaker=None, text=None, text_source=f"main/{i}.txt",
             source={"path": f"main/{i}.mp4", "frame": 0}, ref_video=f"main/{i}.mp4",
             ref_audio=f"main/{i}.mp4", duration=None)
    d.update(kw)
    return d


def _jsonl(*objs):
    return "".join(json.dumps(o) + "\n" for o in objs).encode()


def test_write_sorts_and_round_trips(tmp_path):
    items = [item_from_dict(_item("b/2")), item_from_dict(_item("a/1", meta={"k": 1}))]
    digest = write_manifest(tmp_path / "m.jsonl", items)
    m = load_manifest(tmp_path / "m.jsonl")
    assert m.ids() == ["a/1", "b/2"] and m.sha256 == digest
    assert m.by_id()["a/1"].meta == {"k": 1} and m.by_id()["a/1"].source == Source("main/a/1.mp4", 0)
    # canonical: writing the loaded items again gives the same bytes
    write_manifest(tmp_path / "n.jsonl", m.items)
    assert (tmp_path / "n.jsonl").read_bytes() == (tmp_path / "m.jsonl").read_bytes()


@pytest.mark.parametrize("bad,match", [
    (_item(source={"path": "/etc/passwd", "frame": 0}), "absolute path"),
    (_item(ref_video="main/../../secret.mp4"), "escapes the data root"),
    (_item(text_source="../x.txt"), "escapes"),
    (_item(ref_audio="~/x.wav"), "absolute"),
    (_item(ref_audio="main\\x.wav"), "backslash"),
    (_item(text=None, text_source=None), "text / text_source"),
    (_item(text="   "), "non-empty"),
    (_item(duration=-1), "duration"),
    (_item(duration=True), "duration"),
    (_item(source={"path": "x.mp4", "frame": -2}), "frame"),
    (_item(source={"path": "x.mp4"}), "source must be"),
    ({k: v for k, v in _item().items() if k != "speaker"}, "missing keys"),
    (_item(extra=1), "unknown keys"),
    (_item(i=" a"), "surrounding spaces"),
])
def test_schema_violations_are_refused(bad, match):
    with pytest.raises(ManifestError, match=match):
        parse_manifest(_jsonl(bad))


def test_unsorted_duplicate_and_non_utf8_manifests_refused():
    with pytest.raises(ManifestError, match="not sorted"):
        parse_manifest(_jsonl(_item("b"), _item("a")))
    with pytest.raises(ManifestError, match="duplicate"):
        parse_manifest(_jsonl(_item("a"), _item("a")))
    with pytest.raises(ManifestError, match="not UTF-8"):
        parse_manifest(b'{"id": "\xff"}\n')
    with pytest.raises(ManifestError, match="line 2: invalid JSON"):
        parse_manifest(_jsonl(_item("a")) + b"{oops\n")


def test_resolve_refuses_symlink_escape(tmp_path):
    root = tmp_path / "root"
    (root / "main").mkdir(parents=True)
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"x")
    os.symlink(outside, root / "main" / "link.mp4")
    with pytest.raises(ManifestError, match="outside the data root"):
        resolve(root, "main/link.mp4")
    os.symlink(tmp_path, root / "up")
    with pytest.raises(ManifestError, match="outside the data root"):
        resolve(root, "up/outside.mp4")
    inside = root / "main" / "ok.mp4"
    inside.write_bytes(b"x")
    os.symlink(inside, root / "alias.mp4")
    assert resolve(root, "alias.mp4") == inside.resolve()


def test_read_text_parses_lrs_and_refuses_bad_bytes(tmp_path):
    (tmp_path / "main").mkdir()
    (tmp_path / "main" / "a.txt").write_text("Text:  HELLO THERE\nConf:  4\n\nWORD START END ASDSCORE\n")
    item = item_from_dict(_item("a"))
    assert read_text(item, tmp_path) == "HELLO THERE"
    (tmp_path / "main" / "a.txt").write_bytes(b"Text:  caf\xe9\n")
    with pytest.raises(ManifestError, match="not UTF-8"):
        read_text(item, tmp_path)
    (tmp_path / "main" / "a.txt").write_text("Text:   \n")
    with pytest.raises(ManifestError, match="empty"):
        read_text(item, tmp_path)
    (tmp_path / "main" / "a.txt").unlink()
    with pytest.raises(ManifestError, match="cannot read transcript"):
        read_text(item, tmp_path)
    assert read_text(Item(**{**item.__dict__, "text": "given"}), tmp_path) == "given"
