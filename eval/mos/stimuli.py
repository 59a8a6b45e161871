"""Rater-facing video files: re-encoded alike for every system, metadata stripped, plus gold/trap clips.

Every stimulus is re-encoded with the same settings (H.264 yuv420p, 25 fps, ``size`` x ``size``
letterboxed, AAC mono 16 kHz) so container parameters cannot tell the systems apart; global
and stream metadata, chapters and the encoder's SEI message (x264 writes its version and
options there) are dropped and ``+bitexact`` keeps ffmpeg from writing its own version tag.
:func:`leaking_tags` lists what ``ffprobe`` still shows (tests require none).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from ttsf.atomic import atomic_path

#: tags an mp4 muxer writes that say nothing about the source
NEUTRAL_TAGS = {"language", "handler_name", "vendor_id", "major_brand", "minor_version", "compatible_brands"}
GOLD_SHIFT_S = 0.4


class StimulusError(RuntimeError):
    pass


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise StimulusError("ffmpeg not found: install it (Debian: apt-get install ffmpeg)")
    return exe


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise StimulusError(f"{what}: ffmpeg failed: {last}")


def _encode_args(size: int) -> list[str]:
    vf = (f"scale={size}:{size}:force_original_aspect_ratio=decrease,pad={size}:{size}:(ow-iw)/2:(oh-ih)/2,"
          "fps=25,format=yuv420p")
    return ["-vf", vf, "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-threads", "1",
            "-bsf:v", "filter_units=remove_types=6", "-c:a", "aac", "-ar", "16000", "-ac", "1", "-b:a", "64k",
            "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
            "-flags:a", "+bitexact", "-movflags", "+faststart"]


def _atomic(dst: Path, build) -> Path:
    with atomic_path(dst, ".mp4") as tmp:
        build(str(tmp))
        _blank_compressor_name(tmp)
    return dst


def _blank_compressor_name(path: Path) -> None:
    """Zero the 32-byte ``compressorname`` of the mp4 video sample entry (ffmpeg writes its encoder there,
    and ffprobe shows it as the stream's ``encoder`` tag); it sits in ``moov``, before ``mdat`` (faststart)."""
    data = bytearray(path.read_bytes())
    mdat = data.find(b"mdat")
    for name in (b"Lavc libx264", b"libx264"):
        i = data.find(bytes([len(name)]) + name)
        if 0 <= i < mdat:
            data[i:i + 32] = bytes(32)
            path.write_bytes(bytes(data))
            return


def has_audio(path: Path) -> bool:
    return any(s.get("codec_type") == "audio" for s in probe(path).get("streams", []))


def probe(path: Path) -> dict:
    exe = shutil.which("ffprobe")
    if exe is None:
        raise StimulusError("ffprobe not found: install ffmpeg")
    proc = subprocess.run([exe, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise StimulusError(f"{path}: not a readable video ({proc.stderr.strip()[-200:]})")
    return json.loads(proc.stdout)


def duration_s(path: Path) -> float:
    info = probe(path)
    return float(info.get("format", {}).get("duration") or 0.0)


def leaking_tags(path: Path) -> dict[str, str]:
    """Container and stream tags other than the muxer's neutral ones (``{"format.encoder": ...}``)."""
    info = probe(path)
    out = {}
    for k, v in (info.get("format", {}).get("tags") or {}).items():
        if k.lower() not in NEUTRAL_TAGS:
            out[f"format.{k}"] = v
    for s in info.get("streams", []):
        for k, v in (s.get("tags") or {}).items():
            if k.lower() not in NEUTRAL_TAGS:
                out[f"stream{s.get('index')}.{k}"] = v
    return out


def _inputs(src: Path, audio: Optional[Path]) -> list[str]:
    if audio is not None:
        return ["-i", str(src), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    return ["-i", str(src), "-map", "0:v:0", "-map", "0:a:0"]


def normalise(src: Path, dst: Path, size: int = 256, audio: Optional[Path] = None) -> Path:
    """Re-encode ``src`` (with ``audio``'s sound when given, else its own) to ``dst`` without metadata."""
    return _atomic(Path(dst), lambda tmp: _run(
        [_ffmpeg(), "-y", "-v", "error", *_inputs(src, audio), "-shortest", *_encode_args(size), "-f", "mp4", tmp],
        f"re-encoding {src}"))


def shifted_audio(src: Path, dst: Path, size: int = 256, shift_s: float = GOLD_SHIFT_S,
                  audio: Optional[Path] = None) -> Path:
    """Gold clip: ``src`` with its audio ``shift_s`` seconds early (audio leads the lips)."""
    a = str(audio or src)
    return _atomic(Path(dst), lambda tmp: _run(
        [_ffmpeg(), "-y", "-v", "error", "-i", str(src), "-ss", f"{shift_s:.3f}", "-i", a,
         "-map", "0:v:0", "-map", "1:a:0", "-af", "apad", "-shortest", *_encode_args(size), "-f", "mp4", tmp],
        f"shifting the audio of {src}"))


def _banner(text: str, size: int, path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGBA", (size, size), (0, 0, 0, 170))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(12, size // 14))
    lines, words = [], text.split()
    while words:
        line = words.pop(0)
        while words and draw.textlength(line + " " + words[0], font=font) < size * 0.9:
            line += " " + words.pop(0)
        lines.append(line)
    h = font.size * 1.3
    y = (size - h * len(lines)) / 2
    for line in lines:
        draw.text(((size - draw.textlength(line, font=font)) / 2, y), line, font=font, fill=(255, 255, 255, 255))
        y += h
    img.save(path)


def instruction_trap(src: Path, dst: Path, score: int, size: int = 256, audio: Optional[Path] = None) -> Path:
    """Trap clip: ``src`` darkened, with an on-screen request to answer ``score`` to every question."""
    text = f"Attention check: please answer {score} to all three questions for this video."

    def build(tmp):
        with tempfile.TemporaryDirectory() as d:
            png = Path(d) / "banner.png"
            _banner(text, size, png)
            vf = (f"[0:v]scale={size}:{size}:force_original_aspect_ratio=decrease,pad={size}:{size}:(ow-iw)/2:(oh-ih)/2"
                  f"[v];[v][1:v]overlay=0:0:shortest=1,fps=25,format=yuv420p[out]")
            extra = ["-i", str(audio)] if audio is not None else []
            amap = "2:a:0" if audio is not None else "0:a:0"
            _run([_ffmpeg(), "-y", "-v", "error", "-i", str(src), "-loop", "1", "-i", str(png), *extra,
                  "-filter_complex", vf, "-map", "[out]", "-map", amap, "-t", f"{duration_s(src):.3f}",
                  *_encode_args(size)[2:], "-f", "mp4", tmp],
                 f"making the trap clip from {src}")

    return _atomic(Path(dst), build)
