"""SadTalker (OpenTalker/SadTalker, CVPR 2023): audio-driven one-shot talking head.

Command (SPEC §4): ``inference.py --driven_audio a.wav --source_image i.png --result_dir OUT
--preprocess full --size 256 --still --pose_style 0 --cpu|(cuda)``; 25 fps output written to
``OUT/<timestamp>.mp4``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.base import Checkpoint, ExternalBaseline

_SRC = "SadTalker release v0.0.2-rc (scripts/download_models.sh)"


class SadTalker(ExternalBaseline):
    name = "sadtalker"
    key = "sadtalker"
    repo = "https://github.com/OpenTalker/SadTalker"
    commit = "1119361eec6a9807e4d737647a36325ed7e977c5"
    description = "SadTalker driven by the ground-truth speech (upstream repo, subprocess)"
    checkpoints = (
        Checkpoint("checkpoints/SadTalker_V0.0.2_256.safetensors", None, _SRC),
        Checkpoint("checkpoints/mapping_00109-model.pth.tar", None, _SRC),
        Checkpoint("checkpoints/mapping_00229-model.pth.tar", None, _SRC),
    )
    image_size = 256

    def __init__(self, speech: str = "gt", pose_style: int = 0, still: bool = True, **options: Any):
        super().__init__(speech=speech, pose_style=pose_style, still=still, **options)
        self.pose_style = int(pose_style)
        self.still = bool(still)

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        argv = [str(self.python), "inference.py", "--driven_audio", str(audio), "--source_image", str(image),
                "--result_dir", str(out_dir), "--preprocess", "full", "--size", "256",
                "--pose_style", str(self.pose_style)]
        if self.still:
            argv.append("--still")
        return argv


class SadTalkerTTS(SadTalker):
    name = "sadtalker-tts"
    description = "SadTalker driven by the paper's TTS (system 'ttsf-tts'): the text-driven cascade"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
