"""The interface every evaluated system implements (generation is separate from scoring).

A system turns one manifest item (source image + text, and for audio-driven systems
the driving speech) into a generated video and/or speech file. It declares what it
produces, its version (part of the cache key) and where it comes from (provenance).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from ttsf.data.manifest import Item

PRODUCES = ("audio", "video")


class SystemError_(Exception):
    """Base for system failures (named with a trailing underscore: ``SystemError`` is a builtin)."""


class SystemNotReady(SystemError_):
    """The system cannot run here (not installed, checkpoint missing); says how to fix it."""


class GenerationError(SystemError_):
    """One item could not be generated; the run records the reason and continues."""

    def __init__(self, reason: str, *, code: str = "generation_failed"):
        self.reason = reason
        self.code = code
        super().__init__(reason)


@dataclasses.dataclass(frozen=True)
class Output:
    """What a system produced for one item (absolute paths; ``None`` = not produced).

    video: mp4, 25 fps, with or without an audio track.
    audio: 16 kHz mono wav (the speech to score for TTS metrics).
    """

    video: Optional[Path] = None
    audio: Optional[Path] = None
    notes: tuple[str, ...] = ()

    def files(self) -> list[Path]:
        return [p for p in (self.video, self.audio) if p is not None]


@dataclasses.dataclass
class Context:
    """Everything a system needs besides the item.

    data_root: folder the manifest paths are relative to.
    out_dir: ``samples/<system>/`` of the run; outputs go to ``out_dir / f"{id}.mp4"`` etc.
    seed: the run seed (systems derive per-item seeds from it and the item id).
    device: ``"cpu"`` or ``"cuda"``.
    """

    data_root: Path
    out_dir: Path
    seed: int = 0
    device: str = "cpu"

    def output_path(self, item: Item, suffix: str) -> Path:
        path = self.out_dir / f"{item.id}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


class System:
    """Base class. Subclasses set the class attributes and implement :meth:`generate`."""

    #: registry name (``gt``, ``still``, ``sadtalker-tts``, …)
    name: str = ""
    #: subset of :data:`PRODUCES`
    produces: tuple[str, ...] = ()
    #: bump when the outputs for the same inputs change (part of the cache key)
    version: str = "1"
    #: where the speech comes from: "gt" (reference audio), "tts" (a TTS), "self" (the system)
    speech_source: str = "self"
    #: a one-line description for ``ls systems``
    description: str = ""
    #: True when outputs are the references themselves (nothing is generated or cached)
    passthrough: bool = False
    #: set by the runner (``--allow-placeholder``): accept random-init placeholder weights
    #: (tests only; see baselines/placeholder.py). Not an option: it does not change outputs.
    allow_placeholder: bool = False

    def __init__(self, **options: Any):
        self.options = dict(options)

    def config(self) -> dict:
        """Everything that changes the outputs (goes into the cache key and results.json)."""
        return {"name": self.name, "version": self.version, "speech_source": self.speech_source,
                "options": self.options}

    def provenance(self) -> dict:
        """Upstream repository, commit and checkpoint hashes (``{}`` for in-house systems)."""
        return {}

    def placeholder_files(self) -> list[str]:
        """Weight files of this system that are random-init placeholders (``[]``: none).

        A system with any is refused unless :attr:`allow_placeholder`, and its row is then
        marked placeholder (never comparable) in results.json and the tables.
        """
        return []

    def readiness(self) -> tuple[bool, str]:
        """``(ready, reason)``: can this system run here? Never raises."""
        return True, "ready"

    def check_ready(self) -> None:
        ok, reason = self.readiness()
        if not ok:
            raise SystemNotReady(f"system {self.name!r} is not ready: {reason}")

    def generate(self, item: Item, ctx: Context) -> Output:
        """Produce the outputs for ``item`` (raise :class:`GenerationError` on failure)."""
        raise NotImplementedError
