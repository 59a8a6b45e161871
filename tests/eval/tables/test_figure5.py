"""Figure 5: speaker embeddings of generated speech -> t-SNE PNG + silhouette by speaker."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.tables.figure5 import silhouette, tsne


def test_silhouette_separates_clustered_from_mixed_embeddings():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    labels = [f"s{k}" for k in range(3) for _ in range(6)]
    clustered = np.repeat(centres, 6, axis=0) + 0.05 * rng.normal(size=(18, 16))
    mixed = rng.normal(size=(18, 16))
    assert silhouette(clustered, labels) > 0.8 > 0.2 > silhouette(mixed, labels)
    assert silhouette(clustered[:3], ["a", "b", "c"]) is None  # one item per speaker: undefined
    xy = tsne(clustered, seed=0)
    assert xy.shape == (18, 2) and np.array_equal(xy, tsne(clustered, seed=0))


@pytest.fixture(scope="module")
def tiny_root():
    from eval.synth import default_corpus

    return default_corpus("tiny")


def test_fig5_run_writes_the_figure(tiny_root, tmp_path):
    from eval.run.runner import RunConfig, run

    res = run(RunConfig(table="fig5", split="synth_test", data_root=str(tiny_root), systems=["gt"],
                        out=str(tmp_path), quiet=True)).results
    run_dir = tmp_path / res["run_id"]
    assert (run_dir / "figure5.png").stat().st_size > 5000
    summary = json.loads((run_dir / "figure5.json").read_text())["summary"]["gt"]
    n = res["split"]["n_items"]
    assert summary["n"] == n and res["scores"]["gt"]["n_embedded"]["value"] == n
    assert summary["speakers"] == len({json.loads(x)["speaker"] for x in
                                       (tiny_root / "synth_test.jsonl").read_text().splitlines()})
    assert summary["silhouette_cosine"] is None or -1.0 <= summary["silhouette_cosine"] <= 1.0
