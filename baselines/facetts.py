"""Face-TTS (naver-ai/facetts, ICASSP 2023): Grad-TTS conditioned on a face image.

Command (upstream README "Test")::

    python compat.py inference.py       # configured through environment variables

``config.py`` reads every setting with ``os.getenv``: the adapter sets ``test_txt`` (a text
file, one line), ``test_faceimg`` (the portrait), ``use_custom=1``, ``output_dir`` and
``resume_from=./ckpts/facetts_lrs3.pt``; ``timesteps`` stays at the upstream default (10)
and ``inference.py`` fixes ``temperature=1.5``, ``length_scale=0.91``, seed 37.
``inference.py`` resizes the image to 224×224 without cropping; the README asks for a face
"cropped and aligned for LRS3 distribution": the adapter gives it the centre square of the
source frame at 224² (our sources are face-centred crops). The vocoder is HiFi-GAN-16k
from ``torch.hub.load('bshall/hifigan:main', 'hifigan')``: ``setup`` lays that repository
out in ``.torch_home/hub/bshall_hifigan_main`` and the run sets ``TORCH_HOME`` there, so
nothing is fetched. Output ``OUT/sample_0.wav`` at 16 kHz. Speech only (Table 3, Figure 5).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from baselines.base import COMPAT, Checkpoint, EnvSpec, ExternalBaseline, ExtraRepo
from eval.systems.base import Context, GenerationError, Output
from ttsf import media
from ttsf.data.manifest import Item, ManifestError, read_text

COMMIT = "ed4b96e08b7d69b7a438640c4c8605c388007a4e"  # 2023-03, the repository's last commit
HIFIGAN_COMMIT = "49c16c935cea45ba4073811de974d9ae277c3bc9"  # bshall/hifigan main, 2023-07-19 (last commit)


class FaceTTS(ExternalBaseline):
    name = "facetts"
    key = "facetts"
    repo = "https://github.com/naver-ai/facetts"
    commit = COMMIT
    description = "Face-TTS: face-conditioned TTS (upstream repo, subprocess); speech only"
    checkpoints = (
        Checkpoint("ckpts/facetts_lrs3.pt", None,
                   "Face-TTS README 'Preparation' 1 (Google Drive file 18ERr-91Z1Mnc2Aq9n1nBPijzb5gSymLq)",
                   url="https://drive.google.com/file/d/18ERr-91Z1Mnc2Aq9n1nBPijzb5gSymLq/view"),
        Checkpoint(".torch_home/hub/checkpoints/hifigan-67926ec6.pt", None,
                   "bshall/hifigan release v0.1 (hubconf.py URLS['hifigan'], loaded by torch.hub)",
                   url="https://github.com/bshall/hifigan/releases/download/v0.1/hifigan-67926ec6.pt",
                   sha256_prefix="67926ec6"),
    )
    extra_repos = (ExtraRepo("https://github.com/bshall/hifigan", HIFIGAN_COMMIT,
                             ".torch_home/hub/bshall_hifigan_main"),)
    run_env = (("TORCH_HOME", "{checkout}/.torch_home"),)
    image_size = 224
    produces = ("audio",)
    speech_source = "self"
    env = EnvSpec(
        "overlay",
        pins=("pytorch-lightning==2.6.6", "sacred==0.8.7", "einops==0.8.2", "Unidecode==1.4.0", "inflect==7.6.0",
              "transformers==4.46.3"),
        notes=(
            "torch: ttsf-bench's torch==2.14.1 (requirements.txt: unpinned torch)",
            "torchaudio: none exists for torch 2.14; compat.py registers an empty module (used only by the LRS3 "
            "data loader and torch.hub's dependency check of bshall/hifigan, not by inference with use_custom=1)",
            "pytorch-lightning==2.6.6 (unpinned upstream): only LightningModule and seed_everything are used; "
            "compat.py makes Lightning's .cuda() a no-op on CPU",
            "sacred==0.8.7, einops==0.8.2, Unidecode==1.4.0, inflect==7.6.0: newest that install (unpinned upstream)",
            "transformers==4.46.3 added: utils/scheduler.py imports transformers.optimization.AdamW (not in "
            "requirements.txt; AdamW is gone from later releases)",
            "librosa/scipy/tqdm/opencv/Cython/matplotlib: ttsf-bench's pins; monotonic_align is built with Cython 3",
        ),
        imports=("torch", "pytorch_lightning", "sacred", "einops", "unidecode", "inflect", "transformers", "cv2",
                 "scipy", "matplotlib"),
        build=(("model/monotonic_align", ("{python}", "setup.py", "build_ext", "--inplace")),),
    )

    def __init__(self, **options: Any):
        super().__init__(speech="gt", **options)
        self.speech_source = "self"

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        return [str(self.python), str(COMPAT), "inference.py"]

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
            (work / "text.txt").write_text(" ".join(text.split()) + "\n", "utf-8")
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
            try:
                audio = media.read_audio(wavs[0], media.SAMPLE_RATE)
            except media.MediaError as exc:
                raise GenerationError(f"facetts output unreadable: {exc}") from exc
        return Output(audio=media.write_audio(ctx.output_path(item, ".wav"), audio, media.SAMPLE_RATE))
