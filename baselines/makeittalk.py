"""MakeItTalk (yzhou359/MakeItTalk, SIGGRAPH Asia 2020): speaker-aware talking heads.

Command (SPEC §4, upstream README "Animate You Portraits!")::

    python main_end2end.py --jpg NAME.jpg --load_G_name examples/ckpt/ckpt_116_i2i_comb.pth ...

The README asks for a "portrait image [cropped] into size 256x256 ... under `examples`
folder with `.jpg` format. Make sure the head is almost in the middle", and the script
animates *every* ``.wav`` in ``examples/`` and writes its videos there
(``examples/<jpg>_pred_fls_<wav>_audio_embed.mp4``, 62.5 fps, three 256² panels side by
side: reference | generated | landmarks; the adapter keeps the middle one and resamples to 25 fps).
So the adapter stages one 256² centre-cropped jpg and one wav into ``examples/`` under a
unique name, runs, collects the new ``.mp4`` and removes what it staged; items are generated
one at a time (a lock file in the checkout). ``setup`` moves the upstream's demo wav(s) to
``examples/upstream_demo_wav/`` so only the staged speech is animated. All four checkpoint
paths are passed explicitly (the pinned commit's default ``--load_G_name`` is
``ckpt_116_i2i_comb.pth``; the previous commit defaulted to a file that is not published).

Environment: an overlay on ttsf-bench's interpreter (Python 3.11, torch 2.x) with the pins below
(``env.notes`` says why each differs from the upstream's unpinned requirements.txt); the script
runs unchanged under compat.py (pynormalize provided for its import only, face_alignment on CPU,
librosa's keyword-only ``mel``). Ran end to end here through the contract test with placeholder
weights, whose S3FD face detector is crafted (random weights find no face;
baselines/upstream/placeholder_makeittalk.py). Its video ends 0.288 s before the speech (the
landmark windows), which :meth:`MakeItTalk.normalise` fills with the last frame.
``baselines/docker/makeittalk.Dockerfile`` (Python 3.6) is kept, untested (no Docker daemon here).
"""

from __future__ import annotations

import fcntl
import time
import uuid
from pathlib import Path
from typing import Any

from baselines.base import COMPAT, Checkpoint, EnvSpec, ExternalBaseline
from eval.systems.base import GenerationError

COMMIT = "fad2fe466dc1ac3b6141b930c99b8f1298e3de00"  # 2021-03-28, last commit (loads ckpt_116_i2i_comb.pth)
_SRC = "MakeItTalk README 'Pre-trained Models' (Google Drive {}; quick_demo.ipynb downloads it to this path)"
_GD = "https://drive.google.com/file/d/{}/view"
_CKPTS = {  # path -> Google Drive file id (README table and quick_demo.ipynb)
    "examples/ckpt/ckpt_autovc.pth": "1ZiwPp_h62LtjU0DwpelLUoodKPR85K7x",
    "examples/ckpt/ckpt_content_branch.pth": "1r3bfEvTVl6pCNw5xwUhEglwDHjWtAqQp",
    "examples/ckpt/ckpt_speaker_branch.pth": "1rV0jkyDqPW-aDJcj7xSO6Zt1zSXqn1mu",
    "examples/ckpt/ckpt_116_i2i_comb.pth": "1i2LJXKp-yWKIEEgJ7C6cE3_2NirfY_0a",
    "examples/dump/emb.pickle": "18-0CYl5E6ungS3H4rRSHjfYvvm-WwjTI",
}
_FA = "https://www.adrianbulat.com/downloads/python-fan/"
_FA_SRC = ("face_alignment 1.2.0 (FaceAlignment(LandmarksType._3D) downloads it through torch.hub's cache, "
           "$TORCH_HOME/hub/checkpoints; the adapter sets TORCH_HOME={checkout}/.torch_home)")
_FA_FILES = ("s3fd-619a316812.pth", "3DFAN4-7835d9f11d.pth.tar", "depth-2a464da4ea.pth.tar")


def _remove_leftovers(examples: Path, tag: str) -> None:
    """Delete the upstream's per-wav files named after our staged stems (``pred_fls_<stem>_audio_embed.txt``,
    ``<stem>_av.mp4``, ...): main_end2end.py animates every ``pred_fls_*.txt`` in ``examples/``, so a file left by
    a run that stopped early would be animated (or crash) in the next one."""
    for path in examples.iterdir():
        if tag in path.name and path.is_file():
            path.unlink()


class MakeItTalk(ExternalBaseline):
    name = "makeittalk"
    key = "makeittalk"
    repo = "https://github.com/yzhou359/MakeItTalk"
    commit = COMMIT
    description = "MakeItTalk driven by the ground-truth speech (upstream repo, subprocess)"
    checkpoints = (*(Checkpoint(path, None, _SRC.format(gid), url=_GD.format(gid)) for path, gid in _CKPTS.items()),
                   *(Checkpoint(f".torch_home/hub/checkpoints/{f}", None, _FA_SRC, url=_FA + f) for f in _FA_FILES))
    image_size = 256
    make_dirs = ("examples/upstream_demo_wav",)
    run_env = (("TORCH_HOME", "{checkout}/.torch_home"),)
    env = EnvSpec(
        "overlay",
        pins=("face-alignment==1.2.0", "pydub==0.25.1", "opencv-python==4.10.0.84", "tensorboardX==2.6.5",
              "ffmpeg-python==0.2.0"),
        notes=(
            "requirements.txt at fad2fe46 is unpinned (README: Python 3.6; quick_demo.ipynb's Colab install shows "
            "face_alignment 1.1.1, librosa 0.6.3, pysptk 0.1.18, pyworld 0.2.12, resemblyzer 0.1.1.dev0, "
            "pynormalize 0.1.4, torch 1.7.0)",
            "overlay on ttsf-bench's interpreter (torch 2.14.1, numpy 2.4, scipy 1.17, librosa 0.11, soundfile, "
            "Resemblyzer 0.1.4 with its bundled encoder weights, webrtcvad-wheels, pyworld-prebuilt 0.3.6.post1 for "
            "pyworld, scikit-image, numba, tqdm); the scripts run under compat.py (np.float etc. restored, "
            ".cuda() a no-op on CPU, face_alignment's device='cuda' -> 'cpu', pynormalize registered)",
            "face-alignment==1.2.0 (Colab: 1.1.1): main_end2end.py calls FaceAlignment(LandmarksType._3D, "
            "device='cuda'); _3D exists up to 1.3.4 (1.3.5 renamed it THREE_D); 1.3.x loads TorchScript archives, "
            "1.2.0 builds its own FAN/ResNetDepth/s3fd classes and loads state dicts (.pth.tar) from the torch hub "
            "cache ($TORCH_HOME/hub/checkpoints), which the placeholder builder can write from those classes",
            "pysptk: ttsf-bench's pysptk==1.0.1 (Colab: 0.1.18); pyworld: ttsf-bench's pyworld-prebuilt==0.3.6.post1 "
            "(same module, a cp311 wheel; Colab: pyworld 0.2.12)",
            "librosa: ttsf-bench's 0.11.0 (Colab: 0.6.3); the one call on main_end2end.py's path whose signature "
            "changed, librosa.filters.mel(16000, 1024, ...) (keyword-only from 0.10), is bridged by compat.py",
            "pynormalize: not installed: `pip index versions pynormalize` -> 'No matching distribution found' on this "
            "machine's package index; src/autovc/"
            "AutoVC_mel_Convertor_retrain_version.py imports it at module level but calls pynormalize.process_files "
            "only in convert_single_wav_to_input, which main_end2end.py never calls: compat.py registers a module "
            "whose process_files raises if anything ever calls it",
            "pydub==0.25.1 (unpinned upstream; imported at module level); opencv-python==4.10.0.84: face-alignment "
            "requires the opencv-python distribution (ttsf-bench has opencv-python-headless), first built against "
            "NumPy 2",
            "tensorboardX==2.6.5 (unlisted in requirements.txt): src/approaches/train_image_translation.py imports "
            "SummaryWriter at module level (inference never writes a log); the newest, on ttsf-bench's protobuf",
            "ffmpeg-python==0.2.0 (unpinned upstream; the newest): src/dataset/utils/Av2Flau_Convertor.py imports it "
            "at module level; scikit-learn: ttsf-bench's; ffmpeg: the system binary (os.system calls)",
        ),
        imports=("torch", "face_alignment", "librosa", "pysptk", "pyworld", "resemblyzer", "pydub", "cv2", "scipy",
                 "tensorboardX", "ffmpeg", "sklearn"),
        dockerfile="baselines/docker/makeittalk.Dockerfile",
    )

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        argv = [*self.python_argv(), str(COMPAT), "main_end2end.py", "--jpg", image.name]
        for flag, path in (("--load_AUTOVC_name", "ckpt_autovc"), ("--load_a2l_G_name", "ckpt_speaker_branch"),
                           ("--load_a2l_C_name", "ckpt_content_branch"), ("--load_G_name", "ckpt_116_i2i_comb")):
            argv += [flag, f"examples/ckpt/{path}.pth"]
        return argv

    def crop_output(self, frames):
        """MakeItTalk writes ``[reference | generated | landmarks]`` side by side (768×256): the middle panel."""
        if frames.shape[2] != 3 * frames.shape[1]:
            raise GenerationError(f"makeittalk: expected 3 panels of {frames.shape[1]} px, got width {frames.shape[2]}",
                                  code="bad_output")
        side = frames.shape[1]
        return frames[:, :, side:2 * side]

    def normalise(self, frames, seconds):
        """The upstream's video ends before its speech: the audio-to-landmark nets read windows of
        ``num_window_frames=18`` landmark frames (62.5 fps) and emit one frame per window start
        (``range(0, T - 18)``, audio2landmark_dataset.py), so the last 18/62.5 = 0.288 s (7-8 frames at
        25 fps) have no picture, whatever the weights (measured: 43 frames at 25 fps for 2.0 s of speech).
        Those frames are filled with the last frame, and noted; anything shorter still is an error."""
        import math

        import numpy as np

        from ttsf import media

        short = media.duration_frames(seconds) - frames.shape[0]
        window = math.ceil(18 / 62.5 * media.VIDEO_FPS)
        if 0 < short <= window + 1:
            frames = np.concatenate([frames, np.repeat(frames[-1:], short, axis=0)])
            frames, notes = super().normalise(frames, seconds)
            return frames, (f"padded {short} frame(s) (last frame): MakeItTalk's landmark windows end 0.288 s "
                            f"before the speech", *notes)
        return super().normalise(frames, seconds)

    def prepare_checkout(self) -> None:
        """Move the upstream's demo wavs out of ``examples/`` (the script animates every wav there)."""
        examples = self.checkout / "examples"
        for wav in examples.glob("*.wav"):
            if not wav.name.startswith("ttsf_"):
                wav.replace(examples / "upstream_demo_wav" / wav.name)

    def run_upstream(self, argv, work, log_path, env=None):
        examples = self.checkout / "examples"
        stem = f"ttsf_{uuid.uuid4().hex[:12]}"
        image_src, audio_src = work / "source.png", work / "audio.wav"
        # examples/tmp.wav: the upstream's resampled copy, left behind when it stops early
        staged = [examples / f"{stem}.jpg", examples / f"{stem}.wav", examples / "tmp.wav"]
        with open(self.checkout / ".ttsf-bench.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                _remove_leftovers(examples, "ttsf_")  # of a run that stopped early (we hold the lock)
                others = sorted(p.name for p in examples.glob("*.wav"))
                if others:
                    raise GenerationError(f"makeittalk animates every .wav in {examples}: move {', '.join(others)} "
                                          f"away (python -m baselines setup makeittalk does)", code="bad_install")
                import cv2

                cv2.imwrite(str(staged[0]), cv2.imread(str(image_src)))
                staged[1].write_bytes(audio_src.read_bytes())
                started = time.time()
                jpg = argv.index("--jpg") + 1
                super().run_upstream([*argv[:jpg], staged[0].name, *argv[jpg + 1:]], work, log_path, env)
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
                _remove_leftovers(examples, stem)
                fcntl.flock(lock, fcntl.LOCK_UN)


class MakeItTalkTTS(MakeItTalk):
    name = "makeittalk-tts"
    description = "MakeItTalk driven by the paper's TTS (system 'ttsf-tts'): the text-driven cascade"

    def __init__(self, speech: str = "system:ttsf-tts", **options: Any):
        super().__init__(speech=speech, **options)
