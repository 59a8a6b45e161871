"""Media layer: round trips, resampling, mel parity with librosa, and refusals."""

import subprocess

import numpy as np
import pytest

from ttsf import media

SR = 16000


def _frames(t=50, h=64, w=96):
    f = np.zeros((t, h, w, 3), np.uint8)
    for i in range(t):
        f[i, :, :, 0] = i * 5  # brightness encodes the frame index
        f[i, :, :, 2] = 255 - i * 5
    return f


def _clicks(t_frames, every=5, fps=25):
    a = np.zeros(int(t_frames / fps * SR), np.float32)
    for k in range(0, t_frames, every):
        s = k * SR // fps
        a[s : s + 80] = 0.5
    return a


def _onsets(x, thr=0.25):
    idx = np.where(np.abs(x) > thr)[0]
    return [int(idx[0])] + [int(j) for i, j in zip(idx[:-1], idx[1:]) if j - i > 100]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    media.write_video(path, _frames(), fps=25, audio=_clicks(50), sample_rate=SR)
    return path


def test_round_trip_frames_fps_and_audio_alignment(clip):
    v = media.read_video(clip)
    assert v.frames.shape == (50, 64, 96, 3) and v.frames.dtype == np.uint8
    assert v.fps == 25.0 and v.source_fps == 25.0
    # frame order and content survive encoding (red channel encodes the index)
    red = v.frames[..., 0].astype(float).mean(axis=(1, 2))
    assert np.abs(red - np.arange(50) * 5).max() < 4
    # audio: exactly the video's duration, clicks land within one sample period
    assert v.sample_rate == SR and v.audio.shape == (50 * SR // 25,)
    expected = [k * SR // 25 for k in range(0, 50, 5)]
    assert np.abs(np.array(_onsets(v.audio)) - np.array(expected)).max() <= 1


def test_container_readable_by_ffprobe(clip):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,avg_frame_rate,sample_rate",
         "-of", "csv=p=0", str(clip)], capture_output=True, text=True, check=True).stdout
    assert "h264" in out and "25/1" in out and "aac" in out and "16000" in out


def test_repeated_writes_decode_alike(tmp_path):
    # Repeated writes are byte-identical on the machines we measured, but one CI run saw a P-frame
    # one byte longer in one of this test's rewrites (single-threaded x264, same yuv420p input; not
    # reproduced in 260 writes here, nor under valgrind), so the
    # contract is on what readers get: identical audio, frames within the codec's own noise
    # (crf 17..30 re-encodes of these frames differ by <= 2 levels, mean <= 0.03; adding
    # +-2 noise to the input gives mean 0.42).
    first = media.read_video(media.write_video(tmp_path / "a.mp4", _frames(20), audio=_clicks(20)))
    for k in range(8):  # decoding in between, as the harness does
        c = media.read_video(media.write_video(tmp_path / f"c{k}.mp4", _frames(20), audio=_clicks(20)))
        assert np.array_equal(c.audio, first.audio)
        diff = np.abs(c.frames.astype(np.int16) - first.frames.astype(np.int16))
        assert c.frames.shape == first.frames.shape and diff.max() <= 2 and diff.mean() <= 0.05


@pytest.mark.parametrize("fps,expected", [(50, 100), (10, 20), (25, 50), (12.5, 25)])
def test_iter_frames_resamples_by_time(clip, fps, expected):
    frames = list(media.iter_frames(clip, fps=fps))
    assert len(frames) == expected
    red = np.array([f[..., 0].mean() for f in frames])
    # output frame k shows the source frame on screen at k / fps
    src = np.floor(np.arange(expected) * 25 / fps + 1e-6).astype(int)
    assert np.abs(red - src * 5).max() < 4


def test_read_video_from_other_fps_is_resampled(tmp_path):
    p = tmp_path / "30fps.mp4"
    media.write_video(p, _frames(30), fps=30)
    v = media.read_video(p)
    assert v.source_fps == 30.0 and v.fps == 25.0 and v.frames.shape[0] == 25 and v.audio is None
    native = media.read_video(p, fps=None)
    assert native.frames.shape[0] == 30 and native.fps == 30.0


@pytest.mark.parametrize("offset, lead", [(0.2, 5), (0.06, 2), (0.01, 0)])
def test_video_starting_after_the_audio_keeps_av_alignment_like_ffmpeg(tmp_path, clip, offset, lead):
    """A video stream that starts ``offset`` s into the container is padded with its first frame
    (``round(offset * 25)`` copies), exactly as FFmpeg's 25 fps output used by SyncNet's pipeline."""
    path = tmp_path / "late_video.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-itsoffset", str(offset), "-i", str(clip), "-i", str(clip),
                    "-map", "0:v", "-map", "1:a", "-c", "copy", str(path)], check=True)
    v = media.read_video(path)
    assert v.frames.shape[0] == 50 + lead and v.audio.shape == (50 * SR // 25,)
    red = v.frames[..., 0].astype(float).mean(axis=(1, 2))
    assert np.abs(red - np.concatenate([np.zeros(lead), np.arange(50) * 5])).max() < 4
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    assert np.array_equal(v.frames, np.frombuffer(raw, np.uint8).reshape(v.frames.shape))
    assert len(list(media.iter_frames(path))) == 50 + lead


def test_read_audio_formats_and_resampling(tmp_path, clip):
    x = np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32) * 0.5
    wav = media.write_audio(tmp_path / "a.wav", x, SR)
    y = media.read_audio(wav)
    assert y.shape == x.shape and np.abs(y - x).max() < 1e-4
    y8 = media.read_audio(wav, sample_rate=8000)
    assert y8.shape == (8000,)
    # mp4 audio track through FFmpeg
    assert media.read_audio(clip).shape == (32000,)
    # stereo m4a is downmixed to mono
    m4a = tmp_path / "s.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=300:d=1:r=44100",
                    "-ac", "2", "-c:a", "aac", str(m4a)], check=True)
    z, rate = media.read_audio_native(m4a)
    assert rate == 44100 and z.ndim == 1 and abs(z.shape[0] - 44100) < 2048
    assert media.read_audio(m4a).shape[0] == pytest.approx(16000, abs=800)


@pytest.mark.parametrize("codec, suffix, fmt", [("alac", "m4a", "s16p"), ("pcm_s16le", "mkv", "s16"),
                                                ("pcm_s32le", "mkv", "s32")])
def test_integer_pcm_through_ffmpeg_is_scaled_to_unit_range(tmp_path, codec, suffix, fmt):
    """Integer sample formats (planar ALAC s16p and packed s16/s32) decode to [-1, 1], not raw counts."""
    x = np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32) * 0.5
    wav = media.write_audio(tmp_path / "a.wav", x, SR)
    path = tmp_path / f"a.{suffix}"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-af", "pan=stereo|c0=c0|c1=c0", "-c:a", codec, str(path)],
                   check=True)
    import av

    with av.open(str(path)) as container:
        assert next(container.decode(audio=0)).format.name == fmt
    y, rate = media.read_audio_native(path)
    assert rate == SR and y.shape == x.shape
    assert np.abs(y - x).max() < 1e-3


def test_mel_matches_librosa():
    import librosa

    w = np.random.RandomState(0).randn(24000).astype(np.float32) * 0.1
    cfg = media.PAPER_MEL
    m = media.mel(w, cfg)
    pad = (cfg.n_fft - cfg.hop_length) // 2
    ref = librosa.feature.melspectrogram(
        y=np.pad(w, (pad, pad), mode="reflect"), sr=16000, n_fft=1024, hop_length=160, win_length=640,
        center=False, power=1.0, n_mels=80, fmin=0, fmax=8000)
    ref = np.log(np.maximum(ref, 1e-5))
    assert m.shape == (80, 150) == (80, cfg.n_frames(24000))
    assert np.abs(m - ref).max() < 1e-5
    # another recipe: centred, power 2, log10
    cfg2 = media.MelConfig(n_fft=512, win_length=400, hop_length=100, padding="center", power=2.0, log="log10",
                           f_max=None)
    m2 = media.mel(w, cfg2)
    ref2 = np.log10(np.maximum(librosa.feature.melspectrogram(
        y=w, sr=16000, n_fft=512, hop_length=100, win_length=400, center=True, pad_mode="reflect",
        power=2.0, n_mels=80, fmin=0, fmax=None), 1e-5))
    assert m2.shape == ref2.shape == (80, cfg2.n_frames(24000))
    assert np.abs(m2 - ref2).max() < 1e-4


def test_mel_torch_batch_matches_numpy():
    import torch

    w = np.random.RandomState(1).randn(2, 8000).astype(np.float32) * 0.1
    mt = media.mel(torch.from_numpy(w))
    assert isinstance(mt, torch.Tensor) and mt.shape == (2, 80, 50)
    assert np.abs(mt.numpy()[1] - media.mel(w[1])).max() < 1e-5


# ---------------------------------------------------------------------------- refusals


def test_corrupt_and_empty_files(tmp_path, clip):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(media.MediaError, match="empty file"):
        media.read_video(empty)
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(clip.read_bytes()[:1500])
    with pytest.raises(media.MediaError):
        media.read_video(trunc)
    zeros = tmp_path / "zeros.mp4"
    zeros.write_bytes(b"\x00" * 4096)
    with pytest.raises(media.MediaError, match="cannot open"):
        media.read_video(zeros)
    with pytest.raises(media.MediaError, match="does not exist"):
        media.read_audio(tmp_path / "nope.wav")


def test_wrong_extension_and_missing_streams(tmp_path, clip):
    # an mp4 named .wav: libsndfile refuses it with a reason
    fake = tmp_path / "fake.wav"
    fake.write_bytes(clip.read_bytes())
    with pytest.raises(media.MediaError, match="cannot decode audio"):
        media.read_audio(fake)
    # a wav has no video stream
    wav = media.write_audio(tmp_path / "a.wav", np.full(1600, 0.1, np.float32))
    with pytest.raises(media.MediaError, match="no video stream"):
        media.read_video(wav)
    silent_video = tmp_path / "v.mp4"
    media.write_video(silent_video, _frames(5))
    with pytest.raises(media.MediaError, match="no audio stream"):
        media.read_audio(silent_video)


def test_nan_audio_and_bad_frames_refused(tmp_path):
    with pytest.raises(media.MediaError, match="NaN"):
        media.write_audio(tmp_path / "n.wav", np.array([0.0, np.nan], np.float32))
    with pytest.raises(media.MediaError, match="even"):
        media.write_video(tmp_path / "odd.mp4", np.zeros((2, 63, 64, 3), np.uint8))
    with pytest.raises(media.MediaError, match="uint8"):
        media.write_video(tmp_path / "f.mp4", np.zeros((2, 64, 64, 3), np.float32))
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*tmp*"))


def test_absurd_sizes_refused_before_decoding(tmp_path, monkeypatch):
    big = tmp_path / "big.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=4100x64:d=0.08:r=25",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(big)], check=True)
    with pytest.raises(media.MediaError, match="exceeds the limit of 4096 px"):
        media.read_video(big)
    long_wav = media.write_audio(tmp_path / "long.wav", np.full(3 * SR, 0.1, np.float32))
    monkeypatch.setattr(media, "MAX_SECONDS", 2.0)
    with pytest.raises(media.MediaError, match="exceeds the limit"):
        media.read_audio(long_wav)


def test_duration_frames():
    assert media.duration_frames(2.0) == 50
    assert media.duration_frames(2.01) == 51
    assert media.duration_frames(0.001) == 1
