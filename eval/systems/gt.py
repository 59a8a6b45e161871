"""``gt``: the ground-truth recordings scored as if they were generated (the upper bound)."""

from __future__ import annotations

from eval.systems.base import Context, GenerationError, Output, System
from eval.systems.inputs import reference_audio_path, reference_video_path
from ttsf import media
from ttsf.data.manifest import Item


class GroundTruth(System):
    """Passes the item's reference video and speech through unchanged (nothing is written)."""

    name = "gt"
    produces = ("audio", "video")
    speech_source = "gt"
    passthrough = True
    description = "ground-truth video and speech (upper bound; the references themselves)"

    def generate(self, item: Item, ctx: Context) -> Output:
        try:
            video = reference_video_path(item, ctx.data_root) if item.ref_video is not None else None
            audio = reference_audio_path(item, ctx.data_root) if item.ref_audio is not None else None
        except media.MediaError as exc:
            raise GenerationError(exc.reason, code="missing_reference") from exc
        if video is None and audio is None:
            raise GenerationError(f"item {item.id} has neither ref_video nor ref_audio", code="missing_reference")
        for p in (video, audio):
            if p is not None and not p.is_file():
                raise GenerationError(f"reference file {p} does not exist", code="missing_reference")
        return Output(video=video, audio=audio)
