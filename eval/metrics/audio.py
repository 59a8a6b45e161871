"""Per-item audio shared by every audio metric: decoded once, cached on the sample.

Keys in :attr:`eval.metrics.sample.Sample.cache`:

- ``"audio:<field>:native"`` -> ``(float32 (samples,), sample_rate)`` as stored in the file
- ``"audio:<field>:<rate>"`` -> float32 mono ``(samples,)`` resampled with soxr

``<field>`` is ``gen_audio`` or ``ref_audio``. When an item has no audio file but has
the matching video (``gen_video``/``ref_video``), the video's audio track is used (via
:func:`eval.metrics.visual.video`, so it is decoded once for visual and audio metrics)
and a note is recorded on the sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.metrics.base import ItemError
from eval.metrics.sample import Sample

SAMPLE_RATE = 16000
#: Peak amplitude below which audio counts as silent (about -80 dBFS).
SILENCE_PEAK = 1e-4
MIN_SECONDS = 0.1
_VIDEO_FOR = {"gen_audio": "gen_video", "ref_audio": "ref_video"}


def _native(sample: Sample, field: str) -> tuple[np.ndarray, int]:
    def decode():
        from ttsf.media import MediaError, read_audio_native

        path = getattr(sample, field)
        if path is None:
            video_field = _VIDEO_FOR.get(field)
            if video_field is None or getattr(sample, video_field) is None:
                raise ItemError(f"item {sample.id!r} has no {field}", code="missing_input")
            from eval.metrics import visual

            clip = visual.video(sample, video_field)
            if clip.audio is None:
                raise ItemError(f"{video_field} {getattr(sample, video_field)} has no audio track", code="no_audio")
            sample.note(f"{field}: taken from the audio track of {video_field}")
            wav = np.asarray(clip.audio, dtype=np.float32)
            _note_levels(sample, field, getattr(sample, video_field), wav)
            return wav, int(clip.sample_rate)
        if not Path(path).is_file():
            raise ItemError(f"{field} not found: {path}", code="missing_file")
        try:
            wav, rate = read_audio_native(path)
        except MediaError as error:
            raise ItemError(f"cannot decode {field} {path}: {error}", code="decode") from error
        _note_levels(sample, field, path, wav)
        return wav, rate

    return sample.cached(f"audio:{field}:native", decode)


def channels(path: Path) -> int | None:
    """Channel count of the (first) audio stream of ``path``, without decoding; None if unknown."""
    from ttsf.media import AUDIO_SUFFIXES, MediaError, probe

    try:
        if Path(path).suffix.lower() in AUDIO_SUFFIXES:
            import soundfile as sf

            return int(sf.info(str(path)).channels)
        info = probe(path).get("audio") or {}
        return info.get("channels")
    except (MediaError, RuntimeError, OSError):
        return None


def _note_levels(sample: Sample, field: str, path: Path, wav: np.ndarray) -> None:
    """Notes for audio scored as stored but not as speech usually is: beyond full scale
    (float files can hold samples past ±1; scored unclipped) and several channels (averaged)."""
    n = channels(path)
    if n is not None and n > 1:
        sample.note(f"{field}: {n} channels downmixed to mono (their mean) before scoring")
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    if peak > 1.0:
        sample.note(f"{field}: samples beyond full scale (peak |x| = {peak:.4g} > 1): the file is clipped or "
                    "mis-scaled; scored as stored, not clipped")


def native_audio(sample: Sample, field: str) -> tuple[np.ndarray, int]:
    """``(audio float32 (samples,), sample_rate)`` of ``field`` at its stored rate."""
    return _native(sample, field)


def audio(sample: Sample, field: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 ``(samples,)`` of ``field`` at ``sample_rate`` (cached)."""

    def convert():
        from ttsf.media import resample

        wav, rate = _native(sample, field)
        return resample(wav, rate, sample_rate)

    return sample.cached(f"audio:{field}:{int(sample_rate)}", convert)


def check_speech(wav: np.ndarray, sample_rate: int, what: str) -> None:
    """Raise :class:`ItemError` for audio that is too short or silent to be scored."""
    seconds = len(wav) / float(sample_rate)
    if seconds < MIN_SECONDS:
        raise ItemError(f"{what} is {seconds:.3f} s long (< {MIN_SECONDS} s)", code="too_short")
    peak = float(np.max(np.abs(wav))) if len(wav) else 0.0
    if peak < SILENCE_PEAK:
        raise ItemError(f"{what} is silent (peak amplitude {peak:.2e} < {SILENCE_PEAK:g})", code="silent_audio")
