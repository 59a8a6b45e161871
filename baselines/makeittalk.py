"""MakeItTalk (yzhou359/MakeItTalk, SIGGRAPH Asia 2020): speaker-aware talking heads.

Command (SPEC §4): ``main_end2end.py --jpg <256x256 portrait>``; the script reads the
portrait and every ``.wav`` from its own ``examples/`` folder and writes its videos there.
The adapter therefore stages one image and one wav into ``examples/`` under a unique
name, runs, collects the new ``.mp4`` and removes what it staged. Because of that shared
folder, items are generated one at a time (a lock file in the checkout).
"""

from __future__ import annotations

import fcntl
import time
import uuid
from pathlib import Path
from typing import Any

from baselines.base import Checkpoint, ExternalBaseline
from eval.systems.base import GenerationError

_SRC = "MakeItTalk README (pre-trained models, Google Drive)"


class MakeItTalk(ExternalBaseline):
    name = "makeittalk"
    key = "makeittalk"
    repo = "https://github.com/yzhou359/MakeItTalk"
    commit = "79df25bf722f74d03adb0698c20a31513b5cd0b0"
    description = "MakeItTalk driven by the ground-truth speech (upstream repo, subprocess)"
    checkpoints = (
        Checkpoint("examples/ckpt/ckpt_autovc.pth", None, _SRC),
        Checkpoint("examples/ckpt/ckpt_content_branch.pth", None, _SRC),
        Checkpoint("examples/ckpt/ckpt_speaker_branch.pth", None, _SRC),
        Checkpoint("examples/ckpt/ckpt_116_i2i_comb.pth", None, _SRC),
        Checkpoint("examples/dump/emb.pickle", None, _SRC),
    )
    image_size = 256

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        return [str(self.python), "main_end2end.py", "--jpg", image.name]

    def run_upstream(self, argv, work, log_path, env=None):
        examples = self.checkout / "examples"
        stem = f"ttsf_{uuid.uuid4().hex[:12]}"
        image_src, audio_src = work / "source.png", work / "audio.wav"
        staged = [examples / f"{stem}.jpg", examples / f"{stem}.wav"]
        with open(self.checkout / ".ttsf-bench.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                import cv2

                cv2.imwrite(str(staged[0]), cv2.imread(str(image_src)))
                staged[1].write_bytes(audio_src.read_bytes())
                started = time.time()
                super().run_upstream([*argv[:-1], staged[0].name], work, log_path, env)
                new = sorted(p for p in examples.glob(f"*{stem}*.mp4") if p.stat().st_mtime >= started - 1)
                if not new:
                    raise GenerationError(f"makeittalk wrote no video for {stem} in {examples}", code="missing_output")
                (work / "out").mkdir(exist_ok=True)
                new[-1].replace(work / "out" / "makeittalk.mp4")
                for extra in new[:-1]:
                    extra.unlink()
            finally:
                for p in staged:
                    p.unlink(missing_ok=True)
                fcntl.flock(lock, fcntl.LOCK_UN)


class MakeItTalkTTS(MakeItTalk):
    name = "makeittalk-tts"
    description = "MakeItTalk driven by the paper's TTS (system 'ttsf-tts'): the text-driven cascade"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
