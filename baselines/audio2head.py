"""Audio2Head (wangsuzhen/Audio2Head, IJCAI 2021): one-shot talking head with head motion.

Command (SPEC §4): ``inference.py --audio_path x.wav --img_path x.jpg --save_path OUT
--model_path checkpoints/audio2head.pth.tar``; 16 kHz audio, 256 px, 25 fps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.base import Checkpoint, ExternalBaseline


class Audio2Head(ExternalBaseline):
    name = "audio2head"
    key = "audio2head"
    repo = "https://github.com/wangsuzhen/Audio2Head"
    commit = "b1889ef665b9951a52f82ba287b603284b9571c8"
    description = "Audio2Head driven by the ground-truth speech (upstream repo, subprocess)"
    checkpoints = (Checkpoint("checkpoints/audio2head.pth.tar", None, "Audio2Head README (Google Drive link)"),)
    image_size = 256

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        return [str(self.python), "inference.py", "--audio_path", str(audio), "--img_path", str(image),
                "--save_path", str(out_dir), "--model_path", "checkpoints/audio2head.pth.tar"]


class Audio2HeadTTS(Audio2Head):
    name = "audio2head-tts"
    description = "Audio2Head driven by the paper's TTS (system 'ttsf-tts'): the text-driven cascade"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
