"""C-SIM: cosine similarity of speaker embeddings of generated vs ground-truth speech."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import audio
from eval.metrics.base import BackendSpec, ItemError, MetricSpec
from eval.metrics.functional.cosine import cosine_similarity
from eval.metrics.item_mean import ItemMeanMetric

_WEIGHTS = {"xvector": "xvect_voxceleb", "resemblyzer": "resemblyzer"}


@functools.lru_cache(maxsize=4)
def _encoder(backend: str, path: str, device: str):
    if backend == "xvector":
        from eval.metrics.speaker.xvector import XVectorEncoder

        return XVectorEncoder(Path(path).parent, device)
    from eval.metrics.speaker.dvector import DVectorEncoder

    return DVectorEncoder(Path(path)).eval().to(device)


class CSim(ItemMeanMetric):
    """Per-utterance speaker cosine similarity averaged over items (higher is better)."""

    spec = MetricSpec(
        name="csim",
        version="1.0",
        level="item",
        needs=("gen_audio", "ref_audio"),
        higher_is_better=True,
        backends=(
            BackendSpec("xvector", paper=True, weights=("xvect_voxceleb",),
                        description="SpeechBrain spkrec-xvect-voxceleb x-vector (512-d), 16 kHz"),
            BackendSpec("resemblyzer", paper=False, weights=("resemblyzer",),
                        description="Resemblyzer 0.1.4 GE2E d-vector (256-d) with its VAD preprocessing"),
        ),
        unit="cosine",
        outputs=("csim",),
        description="cosine similarity between speaker embeddings of generated and reference speech",
    )

    def __init__(self, backend=None, device="cpu", **options: Any):
        super().__init__(backend, device, **options)
        from ttsf import weights

        self.weights_path = weights.locate(_WEIGHTS[self.backend.name])  # fail fast: MissingWeights
        self.weights_sha256 = weights.file_sha256(self.weights_path)
        if self.backend.name == "xvector":
            import importlib.util

            from eval.metrics.speaker.xvector import INSTALL_HINT

            if importlib.util.find_spec("speechbrain") is None:
                raise ImportError(INSTALL_HINT)

    def encoder(self):
        return _encoder(self.backend.name, str(self.weights_path), self.device)

    def embedding(self, item: Any, field: str) -> np.ndarray:
        """Speaker embedding of ``field`` (cached on the item per backend)."""

        def compute():
            wav = audio.audio(item, field, audio.SAMPLE_RATE)
            audio.check_speech(wav, audio.SAMPLE_RATE, field.replace("_", " "))
            if self.backend.name == "xvector":
                return self.encoder().embed(wav)
            from eval.metrics.speaker.dvector import embed_utterance, preprocess

            speech = preprocess(wav, audio.SAMPLE_RATE)
            if len(speech) < 0.1 * audio.SAMPLE_RATE:
                raise ItemError(f"{field}: no speech left after voice-activity trimming", code="no_speech")
            return embed_utterance(self.encoder(), speech)

        return item.cached(f"speaker:{field}:{self.backend.name}", compute)

    def score(self, item: Any) -> dict[str, float]:
        gen = self.embedding(item, "gen_audio")
        ref = self.embedding(item, "ref_audio")
        try:
            return {"csim": cosine_similarity(gen, ref)}
        except ValueError as exc:
            raise ItemError(f"C-SIM undefined: {exc}", code="zero_embedding") from exc
