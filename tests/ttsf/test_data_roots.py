"""Named data roots (``synth:default``) resolve through the ``ttsf.data_roots`` entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttsf.data import roots
from ttsf.data.roots import DataRootError, parse_named, resolve_named, resolve_root, resolvers


def test_parse_named_tells_names_from_paths():
    assert parse_named("synth:default") == ("synth", "default")
    assert parse_named("synth:tiny") == ("synth", "tiny")
    assert parse_named("data/lrs3") is None
    assert parse_named("C:\\corpora\\lrs3") is None  # a drive letter is a path
    assert parse_named("https://example.org/x") is None


def test_synth_resolver_is_the_harness_corpus_cache():
    # declared in pyproject.toml; ttsf itself never imports eval
    assert resolvers()["synth"] == "eval.synth.cache:default_corpus"


def test_plain_path_passes_through(tmp_path):
    assert resolve_root(str(tmp_path)) == tmp_path
    assert resolve_root("~/x") == Path("~/x").expanduser()


def test_unknown_kind_names_the_group_and_the_known_kinds():
    with pytest.raises(DataRootError, match=r"no resolver for data root kind 'nope'.*known: .*synth.*ttsf\.data_roots"):
        resolve_root("nope:default")
    with pytest.raises(DataRootError, match="KIND:NAME"):
        resolve_named("not-a-name")


def test_resolver_object_is_called_with_the_name(monkeypatch, tmp_path):
    calls = []

    class FakeEntryPoint:
        name, value = "fake", "somewhere:fn"

        def load(self):
            return lambda name: calls.append(name) or tmp_path / name

    monkeypatch.setattr(roots, "entry_points", lambda group: [FakeEntryPoint()] if group == roots.GROUP else [])
    assert resolve_root("fake:small") == tmp_path / "small"
    assert calls == ["small"]
