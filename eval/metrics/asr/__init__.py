"""ASR backends for WER: ``whisper`` (openai-whisper, paper) and ``faster-whisper-base`` (offline).

Both decode deterministically: language ``en``, temperature 0 (no fallback), beam 5.
A transcriber maps 16 kHz mono float32 audio ``(samples,)`` to text.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Load the submodule (numpy and pathlib only; whisper is imported on use) before the factory of
# the same name is defined: importing it later would rebind ``asr.openai_whisper`` to the module
# and break every call after the first (TypeError: 'module' object is not callable).
from eval.metrics.asr import openai_whisper as _openai_whisper_module  # noqa: F401


@functools.lru_cache(maxsize=2)
def openai_whisper(checkpoint: str, device: str = "cpu"):
    """Cached :class:`eval.metrics.asr.openai_whisper.WhisperTranscriber` for a checkpoint path."""
    from eval.metrics.asr.openai_whisper import WhisperTranscriber

    return WhisperTranscriber(Path(checkpoint), device)


@functools.lru_cache(maxsize=2)
def faster_whisper(model_dir: str, device: str = "cpu", threads: int = 0):
    """Cached :class:`eval.metrics.asr.faster_whisper_ct2.CT2Transcriber` for a model folder."""
    from eval.metrics.asr.faster_whisper_ct2 import CT2Transcriber

    return CT2Transcriber(Path(model_dir), device, threads)
