"""What data a checkpoint was trained on, and whether an input comes from that data.

Joint and face checkpoints record their training data in ``meta``: ``data`` =
``{"name", "manifest", "sha256", "synthetic"}`` (written by ``ttsf.train`` since the
LRS3 recipe), older ones only ``data_sha256`` (the training manifest's sha256).
:data:`SYNTHETIC_TRAIN_MANIFESTS` names the synthetic-corpus manifests the committed
checkpoints were trained on, so those are recognised too.

A synthetic corpus folder (``eval.synth``) holds a ``corpus.json`` with its
``config_key`` and ``content_hash``; :func:`synthetic_corpus_of` finds it above a path
without importing the harness.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional, Union

#: training-manifest sha256 -> corpus name, for checkpoints that predate ``meta["data"]``
SYNTHETIC_TRAIN_MANIFESTS = {
    # synthetic corpus preset "default" (cache key 359fb28a0f912a6abfc7), synth_train.jsonl:
    # 144 clips, 6 identities; checkpoints/ttsf_synth.pt was trained on it (README_ttsf.md)
    "91443e758418b484183f53bd6dd4c5f1c4c2229981e664509d96e2f318be6090": "synth:default",
}


def training_data(meta: Mapping[str, Any]) -> dict:
    """``{"name", "manifest", "sha256", "synthetic"}`` of a checkpoint's ``meta``;
    unknown fields are ``None`` (``synthetic`` is ``None`` when it cannot be told)."""
    data = dict(meta.get("data") or {}) if isinstance(meta.get("data"), Mapping) else {}
    sha = data.get("sha256") or meta.get("data_sha256")
    name = data.get("name")
    synthetic = data.get("synthetic")
    if sha in SYNTHETIC_TRAIN_MANIFESTS:
        name = name or SYNTHETIC_TRAIN_MANIFESTS[sha]
        synthetic = True
    if synthetic is None and isinstance(name, str) and name.startswith("synth:"):
        synthetic = True
    return {"name": name, "manifest": data.get("manifest"), "sha256": sha, "synthetic": synthetic}


def synthetic_corpus_of(path: Union[str, Path]) -> Optional[Path]:
    """The synthetic corpus folder ``path`` lies in (a parent with an ``eval.synth``
    ``corpus.json``), else ``None``."""
    p = Path(path).expanduser().resolve()
    for folder in [p, *p.parents] if p.is_dir() else list(p.parents):
        record = folder / "corpus.json"
        if record.is_file():
            try:
                data = json.loads(record.read_text("utf-8"))
            except (OSError, ValueError):
                return None
            return folder if isinstance(data, dict) and "config_key" in data and "content_hash" in data else None
    return None


def demo_data_warning(meta: Mapping[str, Any], image: Union[str, Path, object]) -> Optional[str]:
    """A warning when a checkpoint trained on the synthetic corpus is given an input that
    does not come from it (``image``: a path; anything else counts as not from it)."""
    data = training_data(meta)
    if not data["synthetic"]:
        return None
    if isinstance(image, (str, Path)) and synthetic_corpus_of(image) is not None:
        return None
    return (f"this checkpoint was trained on the synthetic corpus ({data['name'] or 'synth'}, manifest sha256 "
            f"{str(data['sha256'])[:12]}…): a small demo model that has seen a few rendered identities, so on a "
            "real portrait expect a blurry, colour-shifted face. For real inputs train TTSF on LRS3 "
            "(scripts/train_paper.sh) and pass its ttsf.pt with --checkpoint.")
