"""Content keys and pickle-free metric-state checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from eval import cache


def test_content_key_is_canonical_and_sensitive():
    a = cache.content_key({"b": 1, "a": [1, 2]}, "x")
    assert a == cache.content_key({"a": [1, 2], "b": 1}, "x")  # key order does not matter
    assert a != cache.content_key({"a": [1, 2], "b": 2}, "x")
    assert a != cache.content_key({"a": [2, 1], "b": 1}, "x")  # list order does
    assert len(a) == 64


def test_state_round_trip_keeps_arrays_exactly(tmp_path):
    rng = np.random.default_rng(0)
    state = {"sum": rng.normal(size=5), "outer": rng.normal(size=(3, 3)).astype(np.float32), "n": 7,
             "ids": ["a", "b"], "nested": {"x": [np.arange(3), 1.5, None, "s"]}, "flag": True}
    path = cache.save_state(tmp_path / "s.ckpt", state)
    back = cache.load_state(path)
    np.testing.assert_array_equal(back["sum"], state["sum"])
    assert back["outer"].dtype == np.float32 and np.array_equal(back["outer"], state["outer"])
    np.testing.assert_array_equal(back["nested"]["x"][0], np.arange(3))
    assert back["nested"]["x"][1:] == [1.5, None, "s"] and back["n"] == 7 and back["ids"] == ["a", "b"]
    assert back["flag"] is True


def test_state_refuses_objects_and_torn_files_read_as_absent(tmp_path):
    with pytest.raises(TypeError):
        cache.encode_state({"bad": np.array([object()], dtype=object)})
    with pytest.raises(TypeError):
        cache.encode_state({"bad": {1, 2}})
    torn = tmp_path / "torn.ckpt"
    torn.write_bytes(cache.encode_state({"a": np.ones(1000)})[:100])
    assert cache.load_state(torn) is None
    assert cache.load_state(tmp_path / "absent.ckpt") is None


def test_file_hasher_tracks_content(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    h = cache.FileHasher()
    first = h(p)
    assert first == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    p.write_bytes(b"abcd")
    assert h(p) != first
