"""openai-whisper transcription with the paper protocol's fixed decoding.

The checkpoint is a file located by :mod:`ttsf.weights` (pinned sha256); openai-whisper
loads it with ``torch.load(weights_only=True)``. Decoding: ``language="en"``,
``temperature=0.0`` (a single temperature: no sampling fallback), ``beam_size=5``,
``fp16=False`` on CPU; other settings are openai-whisper's ``transcribe`` defaults.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DECODING = {"language": "en", "temperature": 0.0, "beam_size": 5}


class WhisperTranscriber:
    def __init__(self, checkpoint: Path, device: str = "cpu"):
        import whisper

        self.model = whisper.load_model(str(checkpoint), device=device)
        self.fp16 = device != "cpu"

    def transcribe(self, wav: np.ndarray) -> str:
        """Text of 16 kHz mono float32 audio ``(samples,)``."""
        result = self.model.transcribe(np.asarray(wav, dtype=np.float32), fp16=self.fp16, verbose=None, **DECODING)
        return result["text"].strip()
