"""Shared pytest fixtures.

``tiny_corpus``: the bundled synthetic corpus, "tiny" preset (8 identities x 2 clips of
<= 2.4 s, 128 px), built once into ``${TTSF_CACHE:-~/.cache/ttsf-bench}/synth/<key>``
and reused by every later session (a few seconds to build the first time).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_corpus():
    """Path of the cached tiny synthetic corpus (see ``eval.synth.default_corpus``)."""
    from eval.synth import default_corpus

    return default_corpus("tiny")
