"""Contract tests: the REAL upstream code, at its pinned commit, run end to end through its
adapter with placeholder (random-init) weights on 2 real faces (tests/data/real_av).

What is checked is the adapter/upstream contract, not quality (the weights are noise): the
adapter's command is accepted, the output is found, normalised to 25 fps and the system's
resolution, the driving speech is muxed in, and the video lasts as long as the speech
(within one frame). Skipped with the ``python -m baselines check`` message where the
upstream's code or environment is not on this machine (see tests/baselines/conftest.py).
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import pytest

from eval.systems.base import Context
from ttsf import media

VIDEO_BASELINES = ["audio2head", "sadtalker", "makeittalk"]


def _child_cpu() -> float:
    """CPU seconds (user + system) of finished child processes: the upstream's cost, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.parametrize("name", VIDEO_BASELINES)
def test_upstream_runs_end_to_end_on_real_faces(name, placeholder_upstream, real_face_items, tmp_path):
    system = placeholder_upstream(name)
    root, items = real_face_items
    system.allow_placeholder = True
    assert system.readiness()[0], system.readiness()[1]
    ctx = Context(root, tmp_path / "samples")
    for item in items:
        t0, cpu0 = time.perf_counter(), _child_cpu()
        out = system.generate(item, ctx)
        seconds, cpu = time.perf_counter() - t0, _child_cpu() - cpu0
        print(f"{name} {item.id}: {seconds:.1f} s wall, {cpu:.1f} s CPU in the upstream process, for "
              f"{item.duration} s of speech (load average {os.getloadavg()[0]:.1f}; {out.notes})")
        log = (ctx.out_dir / f"{item.id}.log").read_text()
        assert "Traceback" not in log
        info = media.probe(out.video)
        clip = media.read_video(out.video, fps=None)
        driving = media.read_audio(root / item.ref_audio, media.SAMPLE_RATE)
        assert clip.source_fps == pytest.approx(media.VIDEO_FPS)
        assert clip.frames.shape[1:] == (system.image_size, system.image_size, 3)
        video_s = clip.frames.shape[0] / media.VIDEO_FPS
        audio_s = driving.shape[0] / media.SAMPLE_RATE
        assert abs(video_s - audio_s) <= 1 / media.VIDEO_FPS, (video_s, audio_s, info)
        assert abs(info["audio"]["seconds"] - audio_s) <= 1 / media.VIDEO_FPS, info
        # the muxed track is the driving speech (AAC-coded): same envelope, aligned at lag 0
        muxed = clip.audio[: driving.shape[0]]
        n = min(muxed.shape[0], driving.shape[0])
        assert n >= driving.shape[0] - 2048
        corr = np.corrcoef(muxed[:n], driving[:n])[0, 1]
        assert corr > 0.9, corr
        assert clip.frames.std() > 1.0  # decoded pictures, not an empty (constant) stream


def test_facetts_upstream_speaks_the_text_for_real_faces(placeholder_upstream, real_face_items, tmp_path):
    """Face-TTS (speech only): the adapter's env-var configuration is accepted (the log shows our face
    and text files were read), one 16 kHz wav per item is found and returned."""
    system = placeholder_upstream("facetts")
    root, items = real_face_items
    system.allow_placeholder = True
    ctx = Context(root, tmp_path / "samples")
    for item in items:
        t0, cpu0 = time.perf_counter(), _child_cpu()
        out = system.generate(item, ctx)
        print(f"facetts {item.id}: {time.perf_counter() - t0:.1f} s wall, {_child_cpu() - cpu0:.1f} s CPU in the "
              f"upstream process (load average {os.getloadavg()[0]:.1f})")
        log = (ctx.out_dir / f"{item.id}.log").read_text()
        assert "Traceback" not in log and "######## Load /" in log and "text.txt" in log
        assert "Using cache found in" in log and str(system.checkout / ".torch_home") in log  # no download
        assert out.video is None
        wav, rate = media.read_audio_native(out.audio)
        assert rate == media.SAMPLE_RATE and wav.shape[0] > 0.1 * rate and np.isfinite(wav).all()
