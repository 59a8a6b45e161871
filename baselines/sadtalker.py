"""SadTalker (OpenTalker/SadTalker, CVPR 2023): audio-driven one-shot talking head.

Command (SPEC §4, upstream README "Inference")::

    python compat.py inference.py --driven_audio a.wav --source_image i.png --result_dir OUT
        --preprocess crop --size 256 --pose_style 0 [--still]

Output: ``OUT/<timestamp>.mp4`` at 25 fps with the driving audio (the working folder is
removed unless ``--verbose``); with ``--preprocess crop`` the video is the aligned face crop.

Options (docs/baselines.md, "Options that match the paper"): the default is SadTalker's
own (``--preprocess crop``, pose from its PoseVAE with ``--pose_style 0``, no ``--still``):
the TTSF paper (Fig. 4) reports that SadTalker "exhibit[s] smaller variance in head poses"
— generated head motion, not none — and its Diversity column follows SadTalker's own
protocol, which scores SadTalker's generated poses. ``still=True`` (README: "same pose
parameters as the original image, fewer head motion") freezes the head and drives the
Diversity column towards zero; ``preprocess="full"`` (pastes the face back into the whole
image; README recommends it only with ``--still``) uses ``mapping_00109`` instead of
``mapping_00229``.

Not run here: its environment (SadTalker's own pins) was not built on this machine and its
face detector (facexlib RetinaFace) finds no face with random weights; see docs/baselines.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.base import COMPAT, Checkpoint, EnvSpec, ExternalBaseline

COMMIT = "cd4c0465ae0b54a6f85af57f5c65fec9fe23e7f8"  # 2023-10-11, last commit; scripts/download_models.sh fetches v0.0.2-rc
_REL = "https://github.com/OpenTalker/SadTalker/releases/download/v0.0.2-rc/"
_SRC = "SadTalker release v0.0.2-rc (scripts/download_models.sh); sha256 from the author's Hugging Face copy " \
       "vinthony/SadTalker-V002rc (commit a4827306)"
_FX = "facexlib release {} (SadTalker scripts/download_models.sh -> gfpgan/weights; used for face detection/landmarks)"


class SadTalker(ExternalBaseline):
    name = "sadtalker"
    key = "sadtalker"
    repo = "https://github.com/OpenTalker/SadTalker"
    commit = COMMIT
    description = "SadTalker driven by the ground-truth speech (upstream repo, subprocess)"
    checkpoints = (
        Checkpoint("checkpoints/SadTalker_V0.0.2_256.safetensors",
                   "c211f5d6de003516bf1bbda9f47049a4c9c99133b1ab565c6961e5af16477bff", _SRC,
                   url=_REL + "SadTalker_V0.0.2_256.safetensors", size=725066984),
        Checkpoint("checkpoints/mapping_00109-model.pth.tar",
                   "84a8642468a3fcfdd9ab6be955267043116c2bec2284686a5262f1eaf017f64c", _SRC,
                   url=_REL + "mapping_00109-model.pth.tar", size=155779231),
        Checkpoint("checkpoints/mapping_00229-model.pth.tar",
                   "62a1e06006cc963220f6477438518ed86e9788226c62ae382ddc42fbcefb83f1", _SRC,
                   url=_REL + "mapping_00229-model.pth.tar", size=155521183),
        Checkpoint("gfpgan/weights/alignment_WFLW_4HG.pth", None, _FX.format("v0.1.0"),
                   url="https://github.com/xinntao/facexlib/releases/download/v0.1.0/alignment_WFLW_4HG.pth"),
        Checkpoint("gfpgan/weights/detection_Resnet50_Final.pth", None, _FX.format("v0.1.0"),
                   url="https://github.com/xinntao/facexlib/releases/download/v0.1.0/detection_Resnet50_Final.pth"),
    )
    image_size = 256
    env = EnvSpec(
        "venv",
        pins=("torch==2.14.1", "torchvision==0.29.1", "numpy==1.26.4", "scipy==1.11.4", "librosa==0.9.2",
              "numba==0.59.1", "resampy==0.4.3", "pydub==0.25.1", "kornia==0.6.8", "yacs==0.1.8", "PyYAML==6.0.2",
              "joblib==1.3.2", "scikit-image==0.22.0", "facexlib==0.3.0", "basicsr==1.3.3.3", "gfpgan==1.3.8",
              "imageio==2.19.3", "imageio-ffmpeg==0.4.7", "av==12.3.0", "safetensors==0.4.5", "tqdm==4.66.5",
              "opencv-python==4.10.0.84"),
        notes=(
            "NOT built or run on this machine (a fresh venv with torch is ~5.5 GB); the pins are SadTalker's "
            "requirements.txt moved to the oldest releases with cp311 wheels",
            "torch==2.14.1/torchvision==0.29.1 (README: torch 1.12.1): the only torch wheels here",
            "numpy 1.23.4 -> 1.26.4, scipy 1.10.1 -> 1.11.4, scikit-image 0.19.3 -> 0.22.0: first with cp311 wheels "
            "(pip download --only-binary: 'no matching distribution' for 0.19.3 on Python 3.11)",
            "librosa==0.9.2 kept: SadTalker calls librosa.filters.mel with positional arguments (keyword-only "
            "from 0.10)",
            "basicsr 1.4.2 -> 1.3.3.3: 1.4.2 is an sdist only here; basicsr imports "
            "torchvision.transforms.functional_tensor, gone from torchvision 0.17+: expect to alias it",
            "dlib-bin, gradio, face_alignment: left out (webui / not imported by inference.py)",
        ),
        imports=("torch", "torchvision", "numpy", "librosa", "kornia", "yacs", "facexlib", "gfpgan", "safetensors",
                 "pydub", "skimage", "cv2", "imageio"),
        dockerfile="baselines/docker/sadtalker.Dockerfile",
    )

    def __init__(self, speech: str = "gt", pose_style: int = 0, still: bool = False, preprocess: str = "crop",
                 **options: Any):
        super().__init__(speech=speech, pose_style=pose_style, still=still, preprocess=preprocess, **options)
        if preprocess not in ("crop", "extcrop", "resize", "full", "extfull"):
            raise ValueError(f"sadtalker: unknown preprocess {preprocess!r}")
        self.pose_style = int(pose_style)
        if not 0 <= self.pose_style < 46:
            raise ValueError(f"sadtalker: pose_style must be in [0, 46), got {pose_style}")
        self.still = bool(still)
        self.preprocess = preprocess

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        argv = [str(self.python), str(COMPAT), "inference.py", "--driven_audio", str(audio), "--source_image",
                str(image), "--result_dir", str(out_dir), "--preprocess", self.preprocess, "--size", "256",
                "--pose_style", str(self.pose_style)]
        if self.still:
            argv.append("--still")
        return argv


class SadTalkerTTS(SadTalker):
    name = "sadtalker-tts"
    description = "SadTalker driven by the paper's TTS (system 'ttsf-tts'): the text-driven cascade"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
