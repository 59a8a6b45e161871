"""Fixtures: a few real (flite) utterances in a manifest, and a tiny TTS config."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SENTENCES = (
    "The kettle is already warm.",
    "Please close the garden gate.",
    "We walked along the river.",
    "She found a small blue stone.",
)
VOICES = ("slt", "rms")


def make_flite_corpus(root: Path, sentences=SENTENCES, voices=VOICES) -> Path:
    """Write ``<root>/train.jsonl`` with one flite utterance per (voice, sentence)."""
    from ttsf.data.manifest import item_from_dict, write_manifest

    items = []
    (root / "wav").mkdir(parents=True, exist_ok=True)
    for v in voices:
        for i, s in enumerate(sentences):
            rel = f"wav/{v}_{i:02d}.wav"
            subprocess.run(["flite", "-voice", v, "-t", s, "-o", str(root / rel)], check=True)
            items.append(item_from_dict({
                "id": f"{v}/{i:02d}", "dataset": "flite", "speaker": v, "text": s, "text_source": None,
                "source": {"path": rel, "frame": 0}, "ref_video": None, "ref_audio": rel, "duration": None,
            }))
    path = root / "train.jsonl"
    write_manifest(path, items)
    return path


@pytest.fixture(scope="session")
def flite_corpus(tmp_path_factory) -> Path:
    if shutil.which("flite") is None or shutil.which("espeak-ng") is None:
        pytest.skip("flite and espeak-ng binaries are required (apt-get install flite espeak-ng)")
    root = tmp_path_factory.mktemp("flite")
    make_flite_corpus(root)
    return root


@pytest.fixture
def tiny() -> dict:
    """TTSConfig fields of a very small model (tests run on CPU in seconds)."""
    return dict(TINY)


TINY = dict(d_emb=32, enc_channels=32, enc_filter=64, enc_heads=2, enc_layers=1, dp_filter=32,
            dec_channels=(32, 32), dec_blocks=1, dec_mid_blocks=1, dec_heads=2, dec_head_dim=16,
            enc_dropout=0.0, dp_dropout=0.0, dec_dropout=0.0)
