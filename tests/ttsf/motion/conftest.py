"""One intra-op thread: CI runs on 2 shared cores; oversubscription makes tiny nets crawl."""

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (tests/ttsf/conftest.py)."""
