"""``still``: the source image held static for the length of the speech (the lower bound).

The speech is a system option: ``speech="gt"`` uses the item's reference audio (recorded
in the results as ``speech_source: "gt"``), ``speech="system:NAME"`` takes the audio
produced by another registered system (a TTS) for the same item.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eval.systems.base import Context, GenerationError, Output, System
from eval.systems.inputs import reference_audio_path, source_image
from ttsf import media
from ttsf.data.manifest import Item


def even_crop(image: np.ndarray) -> np.ndarray:
    """Crop one pixel row/column where needed so H.264 (yuv420p) accepts the size."""
    h, w = image.shape[:2]
    return image[: h - h % 2, : w - w % 2]


class Still(System):
    name = "still"
    produces = ("audio", "video")
    version = "1"
    description = "source image held still, speech = reference audio (lower bound for motion/sync)"

    def __init__(self, speech: str = "gt", **options: Any):
        super().__init__(speech=speech, **options)
        if speech != "gt" and not speech.startswith("system:"):
            raise ValueError(f"still: speech must be 'gt' or 'system:NAME', got {speech!r}")
        self.speech = speech
        self.speech_source = "gt" if speech == "gt" else "tts"
        self._speech_system = None

    def speech_system(self) -> System:
        if self._speech_system is None:
            from eval.systems import create

            self._speech_system = create(self.speech.split(":", 1)[1])
            if "audio" not in self._speech_system.produces:
                raise ValueError(f"still: system {self._speech_system.name!r} produces no audio")
        return self._speech_system

    def config(self) -> dict:
        cfg = super().config()
        if self.speech != "gt":
            cfg["speech_system"] = self.speech_system().config()
        return cfg

    def readiness(self) -> tuple[bool, str]:
        if self.speech == "gt":
            return True, "ready (speech = reference audio)"
        name = self.speech.split(":", 1)[1]
        from eval.systems import REGISTRY

        if name not in REGISTRY:
            return False, f"no speech system {name!r} registered yet (a TTS must be registered under that name)"
        return self.speech_system().readiness()

    def _speech(self, item: Item, ctx: Context) -> np.ndarray:
        if self.speech == "gt":
            try:
                return media.read_audio(reference_audio_path(item, ctx.data_root), media.SAMPLE_RATE)
            except media.MediaError as exc:
                raise GenerationError(f"reference audio: {exc}", code="bad_input") from exc
        sub = Context(ctx.data_root, ctx.out_dir / "_speech", ctx.seed, ctx.device)
        out = self.speech_system().generate(item, sub)
        if out.audio is None:
            raise GenerationError(f"speech system {self.speech} produced no audio for {item.id}")
        return media.read_audio(out.audio, media.SAMPLE_RATE)

    def generate(self, item: Item, ctx: Context) -> Output:
        try:
            image = even_crop(source_image(item, ctx.data_root))
        except media.MediaError as exc:
            raise GenerationError(f"source image: {exc}", code="bad_input") from exc
        if image.shape[0] < 2 or image.shape[1] < 2:
            raise GenerationError(f"source image too small: {image.shape}", code="bad_input")
        audio = self._speech(item, ctx)
        n_frames = max(1, media.duration_frames(audio.shape[0] / media.SAMPLE_RATE))
        frames = np.broadcast_to(image, (n_frames, *image.shape))
        wav = media.write_audio(ctx.output_path(item, ".wav"), audio, media.SAMPLE_RATE)
        mp4 = media.write_video(ctx.output_path(item, ".mp4"), np.ascontiguousarray(frames), media.VIDEO_FPS,
                                audio=audio, sample_rate=media.SAMPLE_RATE)
        return Output(video=mp4, audio=wav)


class StillTTS(Still):
    """``still-tts``: as ``still`` with the speech of the registered ``tts`` system."""

    name = "still-tts"
    description = "source image held still, speech = the paper's TTS (system 'ttsf-tts')"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
