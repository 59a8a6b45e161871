"""Audio2Head (wangsuzhen/Audio2Head, IJCAI 2021): one-shot talking head with head motion.

Command (SPEC §4, upstream README "Generate Demo Results")::

    python compat.py inference.py --audio_path x.wav --img_path x.png --save_path OUT
        --model_path checkpoints/audio2head.pth.tar

``compat.py`` (baselines/upstream/) runs the unmodified script on Python 3.11 / torch 2.14
/ NumPy 2 on a CPU (``.cuda()`` no-op, ``np.float``, ``yaml.load``). The script resamples
the audio to 16 kHz with ffmpeg into ``./results/temp.wav`` *inside the checkout* (a fixed
name), so runs are serialised by a lock. It resizes the image to 256 px without cropping:
the README asks for a square, face-centred crop "as in /demo/img"; the adapter gives it the
centre square of the source frame at 256² (our sources are face-centred crops).
Output: ``OUT/<image>_<audio>.mp4``, 25 fps, 256², ``len(features) // 4`` frames (features
at 100 Hz: one or two frames short of the audio; the adapter pads them).
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from baselines.base import COMPAT, Checkpoint, EnvSpec, ExternalBaseline

COMMIT = "09e9b431e48a6358c2877a12cd45457ff0379455"  # 2021-10-21, the repository's last commit (README + requirements)


class Audio2Head(ExternalBaseline):
    name = "audio2head"
    key = "audio2head"
    repo = "https://github.com/wangsuzhen/Audio2Head"
    commit = COMMIT
    description = "Audio2Head driven by the ground-truth speech (upstream repo, subprocess)"
    checkpoints = (Checkpoint(
        "checkpoints/audio2head.pth.tar", None,
        "Audio2Head README 'Pretrained Checkpoint' (Google Drive file 1tvI43ZIrnx9Ti2TpFiEO4dK5DOwcECD7)",
        url="https://drive.google.com/file/d/1tvI43ZIrnx9Ti2TpFiEO4dK5DOwcECD7/view"),)
    image_size = 256
    make_dirs = ("results",)
    env = EnvSpec(
        "overlay",
        pins=("imageio-ffmpeg==0.6.0",),
        notes=(
            "torch: ttsf-bench's torch==2.14.1 (README: PyTorch >= 1.6; inference code runs unchanged under compat.py)",
            "numpy/scipy/scikit-image/opencv/PyYAML/imageio/python_speech_features: ttsf-bench's pins "
            "(requirements.txt leaves them unpinned)",
            "pyworld: provided by ttsf-bench's pyworld-prebuilt==0.3.6.post1 (same module, a cp311 wheel)",
            "pytorch-lightning: left out: no file at the commit imports it",
            "imageio-ffmpeg==0.6.0 added: imageio.mimsave(.mp4) needs it (not in requirements.txt); "
            "without it imageio 2.38 falls back to PyAV and fails ('expected bytes, NoneType found')",
        ),
        imports=("torch", "numpy", "scipy", "skimage", "cv2", "yaml", "imageio", "imageio_ffmpeg", "pyworld",
                 "python_speech_features"),
    )

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        return [str(self.python), str(COMPAT), "inference.py", "--audio_path", str(audio), "--img_path", str(image),
                "--save_path", str(out_dir), "--model_path", "checkpoints/audio2head.pth.tar"]

    def run_upstream(self, argv, work, log_path, env=None):
        (self.checkout / "results").mkdir(exist_ok=True)  # inference.py writes ./results/temp.wav there
        with open(self.checkout / ".ttsf-bench.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                super().run_upstream(argv, work, log_path, env)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class Audio2HeadTTS(Audio2Head):
    name = "audio2head-tts"
    description = "Audio2Head driven by the paper's TTS (system 'ttsf-tts'): the text-driven cascade"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
