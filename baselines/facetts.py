"""Face-TTS (naver-ai/facetts, ICASSP 2023): Grad-TTS conditioned on a face image.

Command: ``python inference.py`` configured through environment variables (its sacred
config): ``test_txt`` (a text file), ``test_faceimg`` (224 px face crop), ``output_dir``,
``resume_from=./ckpts/facetts_lrs3.pt``; 16 kHz HiFi-GAN output written as a wav.
Produces speech only (Table 3, Figure 5).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from baselines.base import Checkpoint, ExternalBaseline
from eval.data.manifest import Item, ManifestError, read_text
from eval.systems.base import Context, GenerationError, Output
from ttsf import media


class FaceTTS(ExternalBaseline):
    name = "facetts"
    key = "facetts"
    repo = "https://github.com/naver-ai/facetts"
    commit = "ed4b96e08b7d69b7a438640c4c8605c388007a4e"
    description = "Face-TTS: face-conditioned TTS (upstream repo, subprocess); speech only"
    checkpoints = (Checkpoint("ckpts/facetts_lrs3.pt", None, "Face-TTS README (Google Drive link)"),)
    image_size = 224
    produces = ("audio",)
    speech_source = "self"

    def __init__(self, **options: Any):
        super().__init__(speech="gt", **options)
        self.speech_source = "self"

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        return [str(self.python), "inference.py"]

    def generate(self, item: Item, ctx: Context) -> Output:
        import cv2

        self.check_ready()
        try:
            text = read_text(item, ctx.data_root)
        except ManifestError as exc:
            raise GenerationError(f"text: {exc}", code="bad_input") from exc
        image = self.prepare_image(item, ctx)
        with tempfile.TemporaryDirectory(prefix="ttsf-facetts-") as tmp:
            work = Path(tmp)
            (work / "text.txt").write_text(text + "\n", "utf-8")
            cv2.imwrite(str(work / "face.png"), image[:, :, ::-1])
            out_dir = work / "out"
            out_dir.mkdir()
            started = time.time()
            env = {"test_txt": str(work / "text.txt"), "test_faceimg": str(work / "face.png"),
                   "output_dir": str(out_dir), "resume_from": "./ckpts/facetts_lrs3.pt", "use_custom": "1"}
            self.run_upstream(self.command(work, work, out_dir), work, ctx.output_path(item, ".log"), env)
            wavs = sorted(p for p in out_dir.rglob("*.wav") if p.stat().st_mtime >= started - 1)
            if len(wavs) != 1:
                raise GenerationError(f"facetts: expected one .wav in {out_dir}, found {len(wavs)}",
                                      code="missing_output")
            audio = media.read_audio(wavs[0], media.SAMPLE_RATE)
        return Output(audio=media.write_audio(ctx.output_path(item, ".wav"), audio, media.SAMPLE_RATE))
