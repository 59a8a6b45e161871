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

Environment: an overlay on ttsf-bench's interpreter with NumPy 1.23.5 and the pins below
(``env.notes`` says why each differs from requirements.txt). Ran end to end here through the
contract test with placeholder weights, whose face detector and landmark nets are crafted
(random ones find no face; baselines/upstream/placeholder_sadtalker.py); see docs/baselines.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.base import COMPAT, Checkpoint, EnvSpec, ExternalBaseline

# 2023-10-11, the last commit; its scripts/download_models.sh fetches the v0.0.2-rc release
COMMIT = "cd4c0465ae0b54a6f85af57f5c65fec9fe23e7f8"
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
    #: the face renderer costs seconds of CPU per frame (docs/baselines.md): a long clip on a shared CPU
    #: outlasts the default half hour
    timeout_s = 7200.0
    env = EnvSpec(
        "overlay",
        pins=("numpy==1.23.5", "scipy==1.10.1", "scikit-image==0.20.0", "numba==0.57.1", "librosa==0.9.2",
              "resampy==0.4.3", "pydub==0.25.1", "kornia==0.6.8", "yacs==0.1.8", "easydict==1.13", "facexlib==0.3.0",
              "basicsr==1.4.2", "gfpgan==1.3.8", "safetensors==0.4.5", "imageio-ffmpeg==0.6.0",
              "opencv-python==4.10.0.84"),
        notes=(
            "overlay on ttsf-bench's interpreter (torch==2.14.1, torchvision==0.29.1, imageio 2.38, av, tqdm, "
            "PyYAML, joblib, Pillow): a fresh venv would pull a second "
            "torch 2.14.1 with its ~4 GB of nvidia-* wheels from the index (the torch wheel on the index is the "
            "CUDA one); requirements.txt pins (scikit-image 0.19.3, joblib 1.1.0, resampy 0.3.1) have no cp311 "
            "wheels; the inference code runs unchanged under compat.py (np.float etc. restored, torchvision's "
            "functional_tensor aliased)",
            "numpy==1.23.5 (requirements.txt: 1.23.4; opencv-python 4.10 wants >=1.23.5 on Python 3.11): SadTalker "
            "needs NumPy < 1.24: src/face3d/util/preprocess.py builds np.array([w0, h0, s, t[0], t[1]]) from "
            "1-element arrays (ValueError from 1.24) and calls float() on them (TypeError in NumPy 2.4); "
            "torch/opencv/imageio from ttsf-bench run on it (pip warns that opencv-python-headless 5, pandas 3 "
            "and ml-dtypes want numpy>=2: SadTalker's inference imports none of them)",
            "scipy==1.10.1 (as requirements.txt), scikit-image 0.19.3 -> 0.20.0 (0.19.3 has no cp311 wheel), "
            "numba==0.57.1 (first with Python 3.11, still NumPy 1.23): ttsf-bench's scipy 1.17 / scikit-image 0.26 "
            "/ numba 0.68 need NumPy >= 1.24",
            "torch: README says torch 1.12.1; 2.14.1 here (the only torch on this machine)",
            "librosa==0.9.2 kept (as requirements.txt): src/utils/audio.py calls librosa.filters.mel(hp.sample_rate, "
            "hp.n_fft, ...) positionally, keyword-only from 0.10",
            "resampy 0.3.1 -> 0.4.3: 0.3.1 pins numba<0.54 (no cp311 wheels)",
            "basicsr==1.4.2 (sdist, built at setup; as requirements.txt): gfpgan 1.3.8 needs basicsr>=1.4.2; it "
            "imports torchvision.transforms.functional_tensor, gone from torchvision 0.17: compat.py aliases it to "
            "torchvision.transforms._functional_tensor",
            "gfpgan==1.3.8 (unpinned upstream): src/utils/face_enhancer.py imports it at module level even "
            "without --enhancer",
            "easydict==1.13, imageio-ffmpeg==0.6.0, safetensors==0.4.5, kornia==0.6.8, yacs==0.1.8, pydub==0.25.1, "
            "facexlib==0.3.0: imported by inference.py's modules (easydict is missing from requirements.txt)",
            "opencv-python==4.10.0.84: facexlib/basicsr/gfpgan require the opencv-python distribution (ttsf-bench "
            "has opencv-python-headless); 4.10.0.84 is the first built against NumPy 2",
            "face_alignment, dlib-bin, gradio: left out (only the webui and src/face3d/extract_kp_videos.py, which "
            "inference.py does not import, use them)",
        ),
        # gfpgan/basicsr are left out of this plain import probe: they import only through compat.py's
        # torchvision alias (the contract test imports them the way inference.py does)
        imports=("torch", "torchvision", "numpy", "librosa", "kornia", "yacs", "easydict", "facexlib", "safetensors",
                 "pydub", "skimage", "cv2", "imageio", "imageio_ffmpeg"),
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
