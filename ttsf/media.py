"""Media I/O shared by every package: video, audio and log-mel features.

All readers fail with :class:`MediaError` (path + reason) instead of returning
partial or silently wrong data. Limits on duration and frame size are checked
from the container's metadata *before* decoding, so an absurd file is refused
without exhausting memory.

Conventions
-----------
- video frames: ``uint8`` array ``(frames, height, width, 3)`` in RGB order;
- audio: ``float32`` mono array ``(samples,)`` in [-1, 1];
- mel: ``(..., n_mels, frames)`` natural-log magnitude mel spectrogram.
"""

from __future__ import annotations

import dataclasses
import fractions
import functools
import math
import os
from pathlib import Path
from typing import Iterator, NamedTuple, Optional, Union

import numpy as np

from ttsf.atomic import atomic_path

PathLike = Union[str, os.PathLike]

#: Longest media accepted by the readers, in seconds.
MAX_SECONDS = 3600.0
#: Largest accepted frame side, in pixels.
MAX_SIDE = 4096
#: The project's video frame rate and audio sample rate.
VIDEO_FPS = 25
SAMPLE_RATE = 16000

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}


class MediaError(Exception):
    """A media file that cannot be used, with the reason why."""

    def __init__(self, path: PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class Video(NamedTuple):
    """A decoded clip.

    frames: ``uint8`` ``(frames, height, width, 3)`` RGB.
    fps: frame rate of ``frames`` (after resampling, when requested).
    audio: ``float32`` mono ``(samples,)`` or ``None`` when the file has no audio.
    sample_rate: sample rate of ``audio`` (``None`` without audio).
    source_fps: the container's own frame rate, before any resampling.
    """

    frames: np.ndarray
    fps: float
    audio: Optional[np.ndarray]
    sample_rate: Optional[int]
    source_fps: float


def _av():
    import av  # imported lazily: no work at import time

    return av


def _open(path: PathLike):
    path = Path(path)
    if not path.exists():
        raise MediaError(path, "file does not exist")
    if not path.is_file():
        raise MediaError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise MediaError(path, "empty file (0 bytes)")
    av = _av()
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(path, f"cannot open container: {exc}") from exc


def _stream_seconds(container, stream) -> Optional[float]:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000.0
    return None


def _check_duration(path: PathLike, seconds: Optional[float]) -> None:
    if seconds is not None and seconds > MAX_SECONDS:
        raise MediaError(path, f"duration {seconds:.0f} s exceeds the limit of {MAX_SECONDS:.0f} s")


def _video_stream(path: PathLike, container):
    if not container.streams.video:
        raise MediaError(path, "no video stream")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise MediaError(path, f"invalid frame size {width}x{height}")
    if max(width, height) > MAX_SIDE:
        raise MediaError(path, f"frame size {width}x{height} exceeds the limit of {MAX_SIDE} px")
    _check_duration(path, _stream_seconds(container, stream))
    return stream


def _stream_fps(stream) -> float:
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    if not rate or float(rate) <= 0:
        raise MediaError(stream.container.name, "video stream has no frame rate")
    return float(rate)


def _source_frames(path: PathLike, container, stream) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time in seconds, RGB frame)`` for every decoded frame."""
    av = _av()
    fps = _stream_fps(stream)
    index = 0
    try:
        for frame in container.decode(stream):
            if frame.pts is not None and frame.time_base is not None:
                t = float(frame.pts * frame.time_base)
            else:
                t = index / fps
            image = frame.to_ndarray(format="rgb24")
            index += 1
            if index / fps > MAX_SECONDS + 1:
                raise MediaError(path, f"decoded more than {MAX_SECONDS:.0f} s of video")
            yield t, image
    except av.error.FFmpegError as exc:
        raise MediaError(path, f"corrupt video stream after {index} frames: {exc}") from exc
    if index == 0:
        raise MediaError(path, "video stream has zero decodable frames")


def _resample_times(
    frames: Iterator[tuple[float, np.ndarray]], source_fps: float, fps: float, origin: Optional[float] = None,
    path: PathLike = "video",
) -> Iterator[np.ndarray]:
    """Deterministic frame-rate conversion by presentation time.

    Output frame ``k`` shows the source frame on screen at ``k / fps``: the last
    source frame whose timestamp is ``<= k / fps`` (timestamps are taken relative
    to the first frame). The output covers the source's duration
    (``last timestamp + 1 / source_fps``), rounded to whole output frames.

    ``origin`` is the container's start time (seconds). When the video stream starts
    after it (e.g. audio from 0 s, video from 0.2 s), the first frame is repeated
    ``round(offset * fps)`` times in front, as FFmpeg's constant-frame-rate output
    (the SyncNet reference pipeline) does, so the frames stay aligned with the audio.
    """
    eps = 1e-6
    k = 0
    lead = 0
    previous: Optional[np.ndarray] = None
    start: Optional[float] = None
    last_t = 0.0
    for t, image in frames:
        if start is None:
            start = t
            if origin is not None and t - origin > 0:
                if t - origin > MAX_SECONDS:
                    raise MediaError(path, f"video starts {t - origin:.0f} s after the container start")
                lead = int(math.floor((t - origin) * fps + 0.5 + eps))
                for _ in range(lead):
                    yield image
        t -= start
        if previous is not None:
            while k / fps < t - eps:
                yield previous
                k += 1
        previous, last_t = image, t
    if previous is None:
        return
    end = last_t + 1.0 / source_fps
    total = max(1, int(round(end * fps)))
    while k < total:  # k counts frames after the ``lead`` repeats
        yield previous
        k += 1


def _container_start(container) -> Optional[float]:
    """The container's start time in seconds (the earliest stream start), if known."""
    return None if container.start_time is None else container.start_time / 1_000_000.0


def iter_frames(path: PathLike, fps: Optional[float] = VIDEO_FPS) -> Iterator[np.ndarray]:
    """Stream RGB frames ``(height, width, 3)`` with bounded memory.

    ``fps=None`` yields the container's frames as they are; otherwise frames are
    resampled deterministically to ``fps`` (see :func:`_resample_times`).
    """
    container = _open(path)
    try:
        stream = _video_stream(path, container)
        source_fps = _stream_fps(stream)
        frames = _source_frames(path, container, stream)
        if fps is None:
            for _, image in frames:
                yield image
        else:
            yield from _resample_times(frames, source_fps, float(fps), _container_start(container), path)
    finally:
        container.close()


def _decode_audio(path: PathLike, container) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to float32 mono at its native rate."""
    av = _av()
    if not container.streams.audio:
        raise MediaError(path, "no audio stream")
    stream = container.streams.audio[0]
    _check_duration(path, _stream_seconds(container, stream))
    rate = stream.codec_context.sample_rate or stream.rate
    if not rate:
        raise MediaError(path, "audio stream has no sample rate")
    max_samples = int((MAX_SECONDS + 1) * rate)
    chunks = []
    total = 0
    try:
        for frame in container.decode(stream):
            data = frame.to_ndarray()  # planar: (channels, samples)
            if not frame.format.is_planar:  # packed: (1, samples * channels)
                data = data.reshape(-1, len(frame.layout.channels)).T
            data = _to_float(data).mean(axis=0)  # integer PCM (s16p, s32p, ...) scaled to [-1, 1]
            chunks.append(data.astype(np.float32, copy=False))
            total += data.shape[0]
            if total > max_samples:
                raise MediaError(path, f"decoded more than {MAX_SECONDS:.0f} s of audio")
    except av.error.FFmpegError as exc:
        raise MediaError(path, f"corrupt audio stream after {total} samples: {exc}") from exc
    if total == 0:
        raise MediaError(path, "audio stream has zero samples")
    audio = np.concatenate(chunks)
    declared = _stream_seconds(container, stream)
    if declared is not None and declared > 0:
        # AAC pads its last frame: drop samples past the stream's declared duration.
        audio = audio[: max(1, int(round(declared * rate)))]
    return audio, int(rate)


def _to_float(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.int16:
        return data.astype(np.float32) / 32768.0
    if data.dtype == np.int32:
        return data.astype(np.float32) / 2147483648.0
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    return data.astype(np.float32, copy=False)


def _check_samples(path: PathLike, audio: np.ndarray) -> np.ndarray:
    if audio.size == 0:
        raise MediaError(path, "audio has zero samples")
    if not np.all(np.isfinite(audio)):
        raise MediaError(path, "audio contains NaN or infinite samples")
    return audio


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample mono float audio with soxr (VHQ); identity when rates match."""
    if int(source_rate) == int(target_rate):
        return np.ascontiguousarray(audio, dtype=np.float32)
    import soxr

    out = soxr.resample(np.asarray(audio, dtype=np.float32), int(source_rate), int(target_rate), quality="VHQ")
    return np.ascontiguousarray(out, dtype=np.float32)


def read_audio(path: PathLike, sample_rate: Optional[int] = SAMPLE_RATE) -> np.ndarray:
    """Read mono ``float32`` audio ``(samples,)`` resampled to ``sample_rate``.

    Reads wav/flac/ogg through libsndfile and anything else (m4a, mp4 audio
    tracks, …) through FFmpeg. ``sample_rate=None`` keeps the native rate; use
    :func:`read_audio_native` to also learn it.
    """
    audio, rate = read_audio_native(path)
    return audio if sample_rate is None else resample(audio, rate, sample_rate)


def read_audio_native(path: PathLike) -> tuple[np.ndarray, int]:
    """Read mono ``float32`` audio at its native rate: ``(audio, sample_rate)``."""
    path = Path(path)
    if path.suffix.lower() in AUDIO_SUFFIXES:
        audio, rate = _read_soundfile(path)
    else:
        container = _open(path)
        try:
            audio, rate = _decode_audio(path, container)
        finally:
            container.close()
    return _check_samples(path, audio), rate


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.exists():
        raise MediaError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise MediaError(path, "empty file (0 bytes)")
    try:
        info = sf.info(str(path))
        if info.frames / max(info.samplerate, 1) > MAX_SECONDS:
            raise MediaError(path, f"duration {info.frames / info.samplerate:.0f} s exceeds the limit of "
                                   f"{MAX_SECONDS:.0f} s")
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise MediaError(path, f"cannot decode audio: {exc}") from exc
    return np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate)


def write_audio(path: PathLike, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float audio as 16-bit PCM (wav/flac by suffix), atomically."""
    import soundfile as sf

    path = Path(path)
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    _check_samples(path, audio)
    with atomic_path(path, path.suffix) as tmp:  # no temp file left behind (a folder or read-only target, a kill)
        sf.write(str(tmp), np.clip(audio, -1.0, 1.0), int(sample_rate), subtype="PCM_16")
    return path


def read_video(
    path: PathLike, fps: Optional[float] = VIDEO_FPS, sample_rate: Optional[int] = SAMPLE_RATE
) -> Video:
    """Decode a whole clip: frames (resampled to ``fps`` unless ``None``) and audio.

    Audio is the first audio stream, mono, resampled to ``sample_rate`` (``None``
    keeps the native rate); ``audio`` is ``None`` when the file has no audio
    stream. Raises :class:`MediaError` on any failure.
    """
    container = _open(path)
    try:
        stream = _video_stream(path, container)
        source_fps = _stream_fps(stream)
        frames = _source_frames(path, container, stream)
        if fps is not None:
            frames_iter = _resample_times(frames, source_fps, float(fps), _container_start(container), path)
        else:
            frames_iter = (image for _, image in frames)
        video = np.stack(list(frames_iter))
        has_audio = bool(container.streams.audio)
    finally:
        container.close()
    audio = rate = None
    if has_audio:
        container = _open(path)
        try:
            audio, rate = _decode_audio(path, container)
        finally:
            container.close()
        _check_samples(path, audio)
        if sample_rate is not None:
            audio, rate = resample(audio, rate, sample_rate), int(sample_rate)
    return Video(video, float(fps) if fps is not None else source_fps, audio, rate, source_fps)


def probe(path: PathLike) -> dict:
    """Container facts without decoding: streams, fps, size, durations."""
    container = _open(path)
    try:
        info: dict = {"path": str(path), "video": None, "audio": None}
        if container.streams.video:
            s = container.streams.video[0]
            info["video"] = {
                "codec": s.codec_context.name,
                "width": s.codec_context.width,
                "height": s.codec_context.height,
                "fps": _stream_fps(s),
                "frames": s.frames or None,
                "seconds": _stream_seconds(container, s),
            }
        if container.streams.audio:
            s = container.streams.audio[0]
            info["audio"] = {
                "codec": s.codec_context.name,
                "sample_rate": s.codec_context.sample_rate,
                "channels": s.codec_context.channels if hasattr(s.codec_context, "channels") else None,
                "seconds": _stream_seconds(container, s),
            }
        return info
    finally:
        container.close()


def add_aac_stream(container, sample_rate: int):
    """A mono AAC stream (96 kb/s) on an open PyAV output ``container``."""
    stream = container.add_stream("aac", rate=int(sample_rate))
    stream.codec_context.layout = "mono"
    stream.codec_context.bit_rate = 96000
    return stream


def mux_aac(container, stream, audio: np.ndarray, sample_rate: int, block: int = 1024) -> None:
    """Encode mono float ``audio`` ``(samples,)`` into ``stream`` (from :func:`add_aac_stream`) in
    blocks of ``block`` samples, flush the encoder and mux every packet into ``container``."""
    import av

    for start in range(0, audio.shape[0], block):
        chunk = np.ascontiguousarray(audio[start : start + block][None, :], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = int(sample_rate)
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def write_video(
    path: PathLike,
    frames: np.ndarray,
    fps: int = VIDEO_FPS,
    audio: Optional[np.ndarray] = None,
    sample_rate: int = SAMPLE_RATE,
    crf: int = 18,
) -> Path:
    """Write an H.264 (yuv420p) + AAC mp4, atomically (temp file + rename).

    frames: ``uint8`` ``(frames, height, width, 3)`` RGB; height and width must be even.
    audio: mono float ``(samples,)``; padded with silence or trimmed to the video's
    duration (``frames / fps`` seconds) so both streams have the same length.
    Encoding is single-threaded and the rgb24 -> yuv420p conversion is done here, so the same
    input normally gives the same bytes; one CI machine once wrote a P-frame one byte longer
    (not reproduced), so rely on the decoded output agreeing within codec noise, not on bytes.
    """
    av = _av()
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise MediaError(path, f"frames must be (T>0, H, W, 3), got {frames.shape}")
    if frames.dtype != np.uint8:
        raise MediaError(path, f"frames must be uint8, got {frames.dtype}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise MediaError(path, f"H.264 yuv420p needs even width and height, got {w}x{h}")
    if max(h, w) > MAX_SIDE or t / fps > MAX_SECONDS:
        raise MediaError(path, f"refusing to write {t} frames of {w}x{h}: exceeds limits")
    if audio is not None:
        audio = _check_samples(path, np.asarray(audio, dtype=np.float32).reshape(-1))
        n = int(round(t / fps * sample_rate))
        audio = np.pad(audio[:n], (0, max(0, n - audio.shape[0])))
    with atomic_path(path, ".mp4") as tmp:  # an error, Ctrl-C or a folder at ``path``: no temp file left
        container = av.open(str(tmp), mode="w", format="mp4")
        try:
            vs = container.add_stream("libx264", rate=fractions.Fraction(int(fps), 1))
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            vs.codec_context.options = {"crf": str(crf), "preset": "medium", "threads": "1"}
            vs.codec_context.thread_count = 1
            if audio is not None:
                aus = add_aac_stream(container, sample_rate)
            for i in range(t):
                # Convert to yuv420p here and keep the frame referenced until encode() returns: letting
                # the encoder convert rgb24 itself gave different bytes for the same input (~1 in 15 runs).
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[i]),
                                                   format="rgb24").reformat(format="yuv420p")
                frame.pts = i
                for packet in vs.encode(frame):
                    container.mux(packet)
            for packet in vs.encode():
                container.mux(packet)
            if audio is not None:
                mux_aac(container, aus, audio, sample_rate)
        finally:
            container.close()
    return path


# ----------------------------------------------------------------------------- mel


@dataclasses.dataclass(frozen=True)
class MelConfig:
    """Log-mel recipe. The default is the paper's: 16 kHz, window 640, hop 160, 80 bins.

    padding: ``"hifigan"`` reflect-pads ``(n_fft - hop) / 2`` on both sides and frames
    without centring (HiFi-GAN/Matcha recipe: ``samples // hop`` frames);
    ``"center"`` is librosa's ``center=True`` (``1 + samples // hop`` frames).
    log: ``"ln"`` natural log of ``max(mel, clamp)``, ``"log10"`` base 10.
    power: 1 for magnitude, 2 for power spectrogram.
    """

    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 640
    hop_length: int = 160
    n_mels: int = 80
    f_min: float = 0.0
    f_max: Optional[float] = 8000.0
    power: float = 1.0
    padding: str = "hifigan"
    log: str = "ln"
    clamp: float = 1e-5
    mel_norm: Optional[str] = "slaney"
    htk: bool = False

    def __post_init__(self):
        if self.padding not in ("hifigan", "center"):
            raise ValueError(f"padding must be 'hifigan' or 'center', got {self.padding!r}")
        if self.log not in ("ln", "log10"):
            raise ValueError(f"log must be 'ln' or 'log10', got {self.log!r}")
        if self.win_length > self.n_fft:
            raise ValueError("win_length must be <= n_fft")

    def n_frames(self, n_samples: int) -> int:
        """Mel frames produced for ``n_samples`` samples."""
        if self.padding == "center":
            return 1 + n_samples // self.hop_length
        return (n_samples + self.n_fft - self.hop_length - self.n_fft) // self.hop_length + 1


PAPER_MEL = MelConfig()


@functools.lru_cache(maxsize=16)
def _mel_basis(cfg: MelConfig) -> np.ndarray:
    import librosa

    return librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.f_min,
        fmax=cfg.f_max, htk=cfg.htk, norm=cfg.mel_norm,
    ).astype(np.float32)


def mel(wav, cfg: MelConfig = PAPER_MEL):
    """Log-mel spectrogram ``(..., n_mels, frames)`` of ``wav`` ``(..., samples)``.

    Accepts a numpy array or a torch tensor and returns the same kind (torch keeps
    device and autograd).
    """
    import torch

    is_numpy = not isinstance(wav, torch.Tensor)
    x = torch.as_tensor(np.asarray(wav, dtype=np.float32)) if is_numpy else wav.float()
    lead = x.shape[:-1]
    x = x.reshape(-1, x.shape[-1])
    if cfg.padding == "hifigan":
        pad = (cfg.n_fft - cfg.hop_length) // 2
        if x.shape[-1] <= pad:
            raise ValueError(f"audio too short for mel: {x.shape[-1]} samples")
        x = torch.nn.functional.pad(x[:, None], (pad, pad), mode="reflect")[:, 0]
    window = torch.hann_window(cfg.win_length, periodic=True, device=x.device, dtype=x.dtype)
    spec = torch.stft(
        x, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length, window=window,
        center=cfg.padding == "center", pad_mode="reflect", normalized=False, onesided=True,
        return_complex=True,
    )
    mag = spec.abs()
    if cfg.power != 1.0:
        mag = mag.pow(cfg.power)
    basis = torch.as_tensor(_mel_basis(cfg), device=x.device, dtype=mag.dtype)
    m = torch.matmul(basis, mag).clamp_min(cfg.clamp)
    out = torch.log(m) if cfg.log == "ln" else torch.log10(m)
    out = out.reshape(*lead, cfg.n_mels, out.shape[-1])
    return out.numpy() if is_numpy else out


def duration_frames(seconds: float, fps: float = VIDEO_FPS) -> int:
    """Video frames needed to cover ``seconds``: ``ceil(seconds * fps)``."""
    return int(math.ceil(seconds * fps - 1e-9))
