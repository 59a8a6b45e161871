"""Arguments of a synthetic corpus build, their validation, and the sentence list."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from pathlib import Path
from typing import Optional

#: the convention of the ground-truth pose angles (written into gt files and the corpus README)
POSE_CONVENTION = (
    "degrees; camera frame x right, y down, z to the viewer; yaw>0 turns the nose to image right, "
    "pitch>0 turns it up, roll>0 rotates the face clockwise in the image"
)

#: Bump when the generator's output changes for the same arguments (it is part of the cache key).
GENERATOR_VERSION = "2.1.0"
SENTENCES_FILE = Path(__file__).with_name("sentences.txt")
#: Silence before and after the speech in every clip, in seconds.
SPEECH_PAD = 0.2
MIN_SIZE, MAX_SIZE = 64, 1024


class SynthError(ValueError):
    """Bad arguments or an unusable output directory (raised before any work)."""


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """What to build.

    identities: number of identities K (faces ``id00`` .. in :data:`eval.synth.faces.SOURCES` order).
    clips: clips per identity. seconds: longest clip, in seconds (clips last from
    ``seconds / 2`` to ``seconds``: the speech plus 0.2 s of silence on each side).
    size: frame side in pixels. seed: pose, blink, split and sentence-order seed.
    voices: one voice name per identity (default :data:`eval.synth.voices.DEFAULT_VOICES`).
    test_identities: identities held out of train (one-shot test speakers).
    test_fraction: share of a train identity's clips (and of the sentences) kept for test.
    """

    identities: int = 8
    clips: int = 30
    seconds: float = 4.0
    size: int = 256
    seed: int = 0
    voices: Optional[tuple[str, ...]] = None
    test_identities: int = 2
    test_fraction: float = 0.2

    def resolved_voices(self) -> tuple[str, ...]:
        from eval.synth.voices import DEFAULT_VOICES

        return tuple(self.voices) if self.voices is not None else DEFAULT_VOICES[: self.identities]

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["voices"] = list(self.resolved_voices())
        return d

    def key(self) -> str:
        """Hash of the generator version and every argument (the cache directory name)."""
        blob = json.dumps({"generator_version": GENERATOR_VERSION, "config": self.to_json()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    @property
    def min_seconds(self) -> float:
        return self.seconds / 2.0

    def validate(self) -> "SynthConfig":
        """Check every argument (raises :class:`SynthError`); returns ``self``."""
        from eval.synth.faces import SOURCES
        from eval.synth.voices import VoiceError, check_engines, get_voice

        def integer(name, value, low, high=None):
            if isinstance(value, bool) or not isinstance(value, int):
                raise SynthError(f"{name} must be an integer, got {value!r}")
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f">= {low}"
                raise SynthError(f"{name} must be {bound}, got {value}")

        integer("identities", self.identities, 1)
        if self.identities > len(SOURCES):
            raise SynthError(
                f"identities={self.identities} but only {len(SOURCES)} faces are available offline "
                f"({', '.join(s.name for s in SOURCES)})"
            )
        integer("clips", self.clips, 1, 10000)
        integer("size", self.size, MIN_SIZE, MAX_SIZE)
        if self.size % 4:
            raise SynthError(f"size must be a multiple of 4 (H.264 and the pose grid), got {self.size}")
        integer("seed", self.seed, 0, 2**63 - 1)
        seconds = self.seconds
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise SynthError(f"seconds must be a number, got {self.seconds!r}")
        if not 1.0 <= self.seconds <= 30.0:
            raise SynthError(f"seconds must be between 1 and 30, got {self.seconds}")
        integer("test_identities", self.test_identities, 0)
        if self.test_identities >= self.identities:
            raise SynthError(
                f"test_identities={self.test_identities} leaves no identity for train "
                f"(identities={self.identities}); use at least {self.test_identities + 1} identities"
            )
        if not 0.0 <= float(self.test_fraction) < 1.0:
            raise SynthError(f"test_fraction must be in [0, 1), got {self.test_fraction}")
        voices = self.resolved_voices()
        try:
            for v in voices:
                get_voice(v)
        except VoiceError as exc:
            raise SynthError(str(exc)) from None
        if len(voices) != self.identities:
            raise SynthError(f"{len(voices)} voices given for {self.identities} identities (one voice per identity)")
        try:
            check_engines(voices)
        except VoiceError as exc:
            raise SynthError(str(exc)) from None
        if len(set(voices)) != len(voices):
            raise SynthError(f"voices must be distinct (voice predicts identity), got {list(voices)}")
        return self


PRESETS: dict[str, SynthConfig] = {
    # The corpus: 8 identities x 30 clips of 2-4 s at 256 px.
    "default": SynthConfig(identities=8, clips=30, seconds=4.0, size=256, seed=0),
    # For tests: every identity, two clips of at most 2.4 s, 128 px.
    "tiny": SynthConfig(identities=8, clips=2, seconds=2.4, size=128, seed=0),
}


@functools.lru_cache(maxsize=1)
def sentences() -> tuple[str, ...]:
    """The fixed sentence list (order matters: sentences are referred to by index)."""
    lines = SENTENCES_FILE.read_text(encoding="utf-8").splitlines()
    out = tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if len(set(out)) != len(out):
        raise SynthError(f"{SENTENCES_FILE} has duplicate sentences")
    return out


def lrs_text(sentence: str) -> str:
    """LRS-style transcript: upper case, letters, digits, apostrophes and single spaces."""
    kept = "".join(ch if ch.isalnum() or ch == "'" else " " for ch in sentence.upper())
    return " ".join(kept.split())
