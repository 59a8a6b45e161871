"""Voices of the synthetic corpus: Debian ``flite`` and ``espeak-ng`` run as subprocesses.

Every voice is deterministic: the same text and voice always give the same
samples (both engines are rule/unit-selection based, no randomness), returned
as ``float32`` mono ``(samples,)`` at 16 kHz.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ttsf.media import SAMPLE_RATE, read_audio_native, resample

log = logging.getLogger(__name__)


class VoiceError(RuntimeError):
    """A voice that cannot be synthesised (unknown name, missing engine, engine failure)."""


@dataclasses.dataclass(frozen=True)
class Voice:
    """A named TTS voice.

    engine: ``"flite"`` or ``"espeak-ng"``; args: the engine's voice arguments.
    speaker: who the voice derives from (flite's CMU ARCTIC speakers) or "rule-based".
    """

    name: str
    engine: str
    args: tuple[str, ...]
    gender: str
    speaker: str

    def command(self, text: str, out_wav: Path) -> list[str]:
        if self.engine == "flite":
            return ["flite", *self.args, "-t", text, "-o", str(out_wav)]
        if self.engine == "espeak-ng":
            return ["espeak-ng", *self.args, "-w", str(out_wav), "--", text]
        raise VoiceError(f"voice {self.name}: unknown engine {self.engine!r}")


#: The fixed voice table. Identity ``i`` of the corpus speaks with ``DEFAULT_VOICES[i]``.
VOICES: dict[str, Voice] = {
    v.name: v
    for v in (
        Voice("flite_slt", "flite", ("-voice", "slt"), "F", "CMU ARCTIC slt (US female)"),
        Voice("flite_awb", "flite", ("-voice", "awb"), "M", "CMU ARCTIC awb (Scottish male)"),
        Voice("flite_rms", "flite", ("-voice", "rms"), "M", "CMU ARCTIC rms (US male)"),
        Voice("flite_kal16", "flite", ("-voice", "kal16"), "M", "CMU kal (US male, 16 kHz diphone)"),
        Voice("espeak_us_f2", "espeak-ng", ("-v", "en-us+f2", "-p", "70", "-s", "155"), "F", "rule-based"),
        Voice("espeak_gb_m3", "espeak-ng", ("-v", "en-gb+m3", "-p", "35", "-s", "150"), "M", "rule-based"),
        Voice("espeak_rp_f4", "espeak-ng", ("-v", "en-gb-x-rp+f4", "-p", "55", "-s", "165"), "F", "rule-based"),
        Voice("espeak_us_m5", "espeak-ng", ("-v", "en-us+m5", "-p", "25", "-s", "140"), "M", "rule-based"),
        Voice("espeak_us_f5", "espeak-ng", ("-v", "en-us+f5", "-p", "85", "-s", "170"), "F", "rule-based"),
        Voice("espeak_us_klatt4", "espeak-ng", ("-v", "en-us+klatt4", "-p", "80", "-s", "160"), "F",
              "rule-based (Klatt)"),
    )
}

#: Voice per identity index (see ``faces.SOURCES``), matched to the apparent gender of
#: the face; identities id00, id03, id04 and id05 have the ASR-friendly flite voices. The
#: espeak-ng variants were picked to be far apart for a speaker encoder (Resemblyzer mean
#: cosine between them 0.53-0.69 on five sentences; en-us+f5 was 0.78 from en-us+f2, so unused).
DEFAULT_VOICES: tuple[str, ...] = (
    "flite_slt", "espeak_us_f2", "espeak_rp_f4", "flite_rms",
    "flite_awb", "flite_kal16", "espeak_gb_m3", "espeak_us_klatt4",
)


def get_voice(name: str) -> Voice:
    """The voice called ``name``; :class:`VoiceError` listing the known names otherwise."""
    try:
        return VOICES[name]
    except KeyError:
        raise VoiceError(f"unknown voice {name!r}; known voices: {', '.join(sorted(VOICES))}") from None


def check_engines(voices) -> None:
    """Raise :class:`VoiceError` when an engine needed by ``voices`` is not installed."""
    for engine in sorted({get_voice(v).engine for v in voices}):
        if shutil.which(engine) is None:
            raise VoiceError(f"the {engine!r} program is not installed (apt-get install {engine})")


def engine_versions(voices) -> dict[str, str]:
    """First line of ``<engine> --version`` for each engine used (for provenance)."""
    out = {}
    for engine in sorted({get_voice(v).engine for v in voices}):
        try:
            res = subprocess.run([engine, "--version"], capture_output=True, text=True, timeout=30)
            lines = [ln.strip() for ln in (res.stdout or res.stderr).splitlines() if ln.strip()]
            versioned = [ln for ln in lines if "version" in ln.lower() or "text-to-speech" in ln.lower()]
            out[engine] = (versioned or lines or ["unknown"])[0]
        except (OSError, subprocess.TimeoutExpired) as exc:
            out[engine] = f"unavailable: {exc}"
    return out


def synthesise(text: str, voice: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Speak ``text`` with ``voice``: ``float32`` mono ``(samples,)`` at ``sample_rate``."""
    v = get_voice(voice)
    if not text.strip():
        raise VoiceError(f"voice {voice}: empty text")
    with tempfile.TemporaryDirectory(prefix="ttsf-voice-") as tmp:
        wav = Path(tmp) / "speech.wav"
        try:
            res = subprocess.run(v.command(text, wav), capture_output=True, text=True, timeout=120)
        except FileNotFoundError as exc:
            raise VoiceError(f"voice {voice}: the {v.engine!r} program is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise VoiceError(f"voice {voice}: {v.engine} timed out on {text!r}") from exc
        if res.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
            raise VoiceError(f"voice {voice}: {v.engine} failed (exit {res.returncode}): {res.stderr.strip()[:300]}")
        audio, rate = read_audio_native(wav)
    return resample(audio, rate, sample_rate)
