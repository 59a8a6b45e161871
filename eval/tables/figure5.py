"""Figure 5: t-SNE of speaker embeddings of synthesised speech, coloured by speaker.

``python -m eval.run --table fig5 [--systems facetts,ttsf]`` collects one speaker
embedding per generated utterance through the normal harness (cached, resumable,
distributed) with :class:`SpeakerEmbedding`, then writes ``figure5.png`` (one panel
per system) and ``figure5.npz``-free JSON of the 2-D points. The paper shows the
picture only; as a number we report the silhouette score of the embeddings grouped by
speaker (cosine distance; higher = voices cluster by speaker).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics.base import BackendSpec, Metric, MetricSpec
from ttsf.atomic import atomic_save, atomic_write_json

log = logging.getLogger(__name__)


class SpeakerEmbedding(Metric):
    """Collects the speaker embedding of each generated utterance (state: ids + embeddings).

    Uses the C-SIM metric's encoder for the same backend, so Figure 5 and C-SIM see
    the same embedding space.
    """

    spec = MetricSpec(
        name="speaker_embedding", version="1", level="corpus", needs=("gen_audio",), higher_is_better=True,
        backends=(BackendSpec("xvector", paper=True, weights=("xvect_voxceleb",),
                              description="x-vector (the paper's Figure 5)"),
                  BackendSpec("resemblyzer", paper=False, weights=("resemblyzer",),
                              description="GE2E d-vector (offline)")),
        outputs=("n_embedded",), description="speaker embeddings of generated speech, for the t-SNE figure",
    )

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", **options: Any):
        super().__init__(backend, device, **options)
        from eval.metrics.csim import CSim

        self._csim = CSim(backend=self.backend.name, device=device)

    def reset(self) -> None:
        self._emb: dict[str, np.ndarray] = {}

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        self._emb[item.id] = np.asarray(self._csim.embedding(item, "gen_audio"), dtype=np.float64)
        return None

    def compute(self) -> Mapping[str, float]:
        return {"n_embedded": float(len(self._emb))}

    def state(self) -> dict:
        ids = sorted(self._emb)
        dim = len(next(iter(self._emb.values()))) if self._emb else 0
        return {"ids": ids, "emb": np.stack([self._emb[i] for i in ids]) if ids else np.zeros((0, dim))}

    def merge(self, other_state: dict) -> None:
        for i, e in zip(other_state["ids"], np.asarray(other_state["emb"])):
            self._emb[i] = e


def silhouette(emb: np.ndarray, labels: list[str]) -> Optional[float]:
    """Cosine silhouette score; ``None`` when undefined (fewer than 2 speakers or too few items)."""
    if len(set(labels)) < 2 or len(labels) <= len(set(labels)):
        return None
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(emb, labels, metric="cosine"))


def tsne(emb: np.ndarray, seed: int) -> np.ndarray:
    """2-D t-SNE of ``(n, dim)`` embeddings (perplexity min(30, n - 1), PCA init, seeded)."""
    from sklearn.manifold import TSNE

    n = emb.shape[0]
    perplexity = float(max(1, min(30, n - 1)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                metric="cosine").fit_transform(emb)


def write_figure(run_dir: Path, states: dict[str, dict], speakers: dict[str, Optional[str]], seed: int) -> dict:
    """Write ``figure5.png`` and ``figure5.json``; return per-system summaries."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    systems = [s for s, st in states.items() if len(st["ids"]) >= 3]
    summary: dict[str, dict] = {}
    points: dict[str, Any] = {}
    if not systems:
        return {"png": None, "reason": "fewer than 3 embedded utterances per system"}
    fig, axes = plt.subplots(1, len(systems), figsize=(4.5 * len(systems), 4.2), squeeze=False)
    all_speakers = sorted({speakers.get(i) or "?" for s in systems for i in states[s]["ids"]})
    cmap = plt.get_cmap("tab20", max(1, len(all_speakers)))
    colour = {spk: cmap(k) for k, spk in enumerate(all_speakers)}
    for ax, system in zip(axes[0], systems):
        ids, emb = states[system]["ids"], np.asarray(states[system]["emb"])
        labels = [speakers.get(i) or "?" for i in ids]
        xy = tsne(emb, seed)
        score = silhouette(emb, labels)
        summary[system] = {"n": len(ids), "speakers": len(set(labels)), "silhouette_cosine": score}
        points[system] = [{"id": i, "speaker": lab, "x": float(p[0]), "y": float(p[1])}
                          for i, lab, p in zip(ids, labels, xy)]
        for spk in sorted(set(labels)):
            mask = [lab == spk for lab in labels]
            ax.scatter(xy[mask, 0], xy[mask, 1], s=14, color=colour[spk], label=spk)
        ax.set_title(f"{system} (silhouette {'n/a' if score is None else f'{score:.2f}'})")
        ax.set_xticks([])
        ax.set_yticks([])
    if len(all_speakers) <= 20:
        axes[0][-1].legend(fontsize=7, loc="best", markerscale=1.2)
    fig.suptitle("Speaker embeddings of synthesised speech (t-SNE), coloured by speaker")
    fig.tight_layout()
    png = Path(run_dir) / "figure5.png"
    try:
        atomic_save(png, lambda tmp: fig.savefig(tmp, dpi=120), ".png")
    finally:
        plt.close(fig)
    atomic_write_json(Path(run_dir) / "figure5.json", {"summary": summary, "points": points, "seed": seed})
    return {"png": str(png), "summary": summary}
