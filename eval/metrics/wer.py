"""WER: word error rate (%) of an ASR transcript of the generated speech vs the input text.

Both sides go through openai-whisper's ``EnglishTextNormalizer``; per-item edit counts
(hits, substitutions, deletions, insertions) are kept, and the corpus value is the
micro WER ``sum(S + D + I) / sum(N)`` (``jiwer.wer`` over lists), so shards merge
exactly. Reported in percent, like the paper's Table 3.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics import audio
from eval.metrics.base import BackendSpec, ItemError, Metric, MetricSpec
from eval.metrics.functional.wer import EditCounts, edit_counts

DEFAULT_WHISPER = "large-v3"


@functools.lru_cache(maxsize=1)
def _normalizer():
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> list[str]:
    """Whisper-normalised words of ``text``."""
    return _normalizer()(text).split()


class WER(Metric):
    """Corpus WER over items (lower is better).

    Options: ``model`` (openai-whisper size for backend ``whisper``, default
    ``large-v3``), ``checkpoint`` (an explicit whisper ``.pt`` file instead of the
    registry's pinned one: its sha256 is recorded, not checked), ``threads`` (CPU
    threads for faster-whisper, 0 = library default).
    """

    #: corpus WER (percent) = 100 * total edits / total reference words
    ratio_outputs = {"wer": ("errors", "ref_words", 100.0)}
    spec = MetricSpec(
        name="wer",
        version="1.0",
        level="corpus",
        needs=("gen_audio", "text"),
        higher_is_better=False,
        backends=(
            BackendSpec("whisper", paper=True, weights=("whisper_large_v3",),
                        description="openai-whisper (default large-v3), EnglishTextNormalizer, temperature 0, beam 5"),
            BackendSpec("faster-whisper-base", paper=False, weights=("whisper_base_ct2",),
                        description="faster-whisper 1.2.1, Whisper base CTranslate2 int8, temperature 0, beam 5"),
        ),
        unit="%",
        outputs=("wer",),
        description="corpus word error rate of Whisper transcripts against the input text",
    )
    DEFAULTS = {"model": DEFAULT_WHISPER, "checkpoint": None, "threads": 0}

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", **options: Any):
        unknown = sorted(set(options) - set(self.DEFAULTS))
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} for metric wer; known: {sorted(self.DEFAULTS)}")
        super().__init__(backend, device, **{**self.DEFAULTS, **options})
        from ttsf import weights

        if self.backend.name == "whisper":
            if self.options["checkpoint"]:
                self.weights_path = Path(self.options["checkpoint"])
                if not self.weights_path.is_file():
                    raise FileNotFoundError(f"whisper checkpoint not found: {self.weights_path}")
                self.weights_name = None
            else:
                self.weights_name = weights.whisper_entry_name(str(self.options["model"]))
                self.weights_path = weights.locate(self.weights_name)
        else:
            self.weights_name = "whisper_base_ct2"
            self.weights_path = weights.locate(self.weights_name)
        self.weights_sha256 = weights.file_sha256(self.weights_path)

    def transcriber(self):
        from eval.metrics import asr

        if self.backend.name == "whisper":
            return asr.openai_whisper(str(self.weights_path), self.device)
        return asr.faster_whisper(str(self.weights_path.parent), self.device, int(self.options["threads"]))

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        self._counts: dict[str, EditCounts] = {}
        self.transcripts: dict[str, str] = {}

    def transcribe(self, item: Any) -> str:
        """ASR text of the item's generated speech (cached on the item per backend/model)."""

        def run():
            wav = audio.audio(item, "gen_audio", audio.SAMPLE_RATE)
            audio.check_speech(wav, audio.SAMPLE_RATE, "generated audio")
            return self.transcriber().transcribe(wav)

        return item.cached(f"asr:gen_audio:{self.backend.name}:{self.weights_sha256[:12]}", run)

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        if item.id in self._counts:
            raise ValueError(f"item {item.id!r} already scored by wer")
        text = item.text
        if text is None:
            raise ItemError(f"item {item.id!r} has no reference text", code="missing_input")
        reference = normalize(text)
        if not reference:
            raise ItemError(f"reference transcript {text!r} is empty after normalisation", code="empty_transcript")
        hypothesis_text = self.transcribe(item)
        counts = edit_counts(reference, normalize(hypothesis_text))
        self._counts[item.id] = counts
        self.transcripts[item.id] = hypothesis_text
        return {"wer": 100.0 * counts.wer(), "errors": float(counts.errors), "ref_words": float(counts.ref_words)}

    def total(self) -> EditCounts:
        total = EditCounts()
        for counts in self._counts.values():
            total = total + counts
        return total

    def compute(self) -> Mapping[str, float]:
        """``{"wer": percent, "n": items, "ref_words": N, "errors": S+D+I}``; NaN when empty."""
        total = self.total()
        value = 100.0 * total.wer() if total.ref_words else math.nan
        return {"wer": value, "n": float(len(self._counts)), "ref_words": float(total.ref_words),
                "errors": float(total.errors)}

    def state(self) -> dict:
        ids = sorted(self._counts)
        counts = np.array([[c.hits, c.substitutions, c.deletions, c.insertions]
                           for c in (self._counts[i] for i in ids)], dtype=np.int64).reshape(-1, 4)
        return {"backend": self.backend.name, "weights_sha256": self.weights_sha256, "ids": ids, "counts": counts,
                "transcripts": [self.transcripts[i] for i in ids]}

    def merge(self, other_state: dict) -> None:
        if other_state["backend"] != self.backend.name or other_state["weights_sha256"] != self.weights_sha256:
            raise ValueError("cannot merge wer states from different ASR backends or models")
        for item_id, row, text in zip(other_state["ids"], np.asarray(other_state["counts"]).tolist(),
                                      other_state["transcripts"]):
            if item_id in self._counts:
                raise ValueError(f"item {item_id!r} present in both shards")
            self._counts[item_id] = EditCounts(*map(int, row))
            self.transcripts[item_id] = text

    @property
    def info(self) -> dict:
        if self.backend.name != "whisper":
            model = "whisper-base (CTranslate2 int8)"
        elif self.options["checkpoint"]:  # a user file: --option model= does not describe it
            model = f"checkpoint {self.weights_path.name}"
        else:
            model = self.options["model"]
        return {"backend": self.backend.name, "paper_comparable": self.backend.paper, "model": model,
                "weights": self.weights_name, "weights_sha256": self.weights_sha256,
                "decoding": "language=en, temperature=0, beam_size=5", "normalizer": "whisper EnglishTextNormalizer",
                "n": len(self._counts)}
