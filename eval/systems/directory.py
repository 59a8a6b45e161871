"""``dir:PATH``: bring-your-own outputs, ``PATH/<id>.mp4`` and/or ``PATH/<id>.wav``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.systems.base import Context, GenerationError, Output, System
from ttsf.data.manifest import Item

VIDEO_SUFFIXES = (".mp4",)
AUDIO_SUFFIXES = (".wav", ".flac")


class Directory(System):
    """Outputs made elsewhere, named by manifest id (ids with ``/`` are sub-folders)."""

    passthrough = True
    description = "outputs already on disk: PATH/<id>.mp4 and/or PATH/<id>.wav"

    def __init__(self, path: str, name: str = "", speech_source: str = "self", **options: Any):
        super().__init__(path=str(path), **options)
        self.path = Path(path).expanduser().resolve()
        self.name = name or f"dir:{path}"
        self.speech_source = speech_source
        self.produces = self._detect()

    def _detect(self) -> tuple[str, ...]:
        if not self.path.is_dir():
            return ()
        found = set()
        for p in self.path.rglob("*"):
            if p.suffix in VIDEO_SUFFIXES:
                found.add("video")
            elif p.suffix in AUDIO_SUFFIXES:
                found.add("audio")
            if len(found) == 2:
                break
        return tuple(sorted(found))

    def config(self) -> dict:
        # The files' content (hashed per item by the runner) is what matters, not the name.
        return {"name": "dir", "version": self.version, "speech_source": self.speech_source}

    def readiness(self) -> tuple[bool, str]:
        if not self.path.is_dir():
            return False, f"{self.path} is not a directory"
        if not self.produces:
            return False, f"{self.path} holds no .mp4/.wav/.flac files"
        return True, f"ready ({', '.join(self.produces)} in {self.path})"

    def generate(self, item: Item, ctx: Context) -> Output:
        video = next((self.path / f"{item.id}{s}" for s in VIDEO_SUFFIXES
                      if (self.path / f"{item.id}{s}").is_file()), None)
        audio = next((self.path / f"{item.id}{s}" for s in AUDIO_SUFFIXES
                      if (self.path / f"{item.id}{s}").is_file()), None)
        if video is None and audio is None:
            raise GenerationError(f"no output for id {item.id!r} in {self.path} "
                                  f"(expected {item.id}.mp4 or {item.id}.wav)",
                                  code="missing_output")
        if self.path.resolve() not in (video or audio).resolve().parents:
            raise GenerationError(f"output for {item.id!r} resolves outside {self.path}", code="bad_input")
        return Output(video=video, audio=audio)
