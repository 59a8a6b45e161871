"""Common interface of the external baselines: upstream repos run as subprocesses.

Each adapter declares where the upstream system lives (repository URL + the commit we
pin), the checkpoints it needs (path inside the checkout, sha256 where one is known),
the exact command of SPEC §4, and what it produces. The upstream code runs in its own
environment (its own Python, usually an old torch), never imported here.

Installation (per baseline ``NAME``; see docs/baselines.md)::

    python -m baselines setup NAME [--root DIR] [--source GITDIR_OR_URL]
    python -m baselines check NAME       # what is missing: code, env, each checkpoint

The checkout lives in ``$TTSF_BASELINES_ROOT/NAME`` (alias ``$TTSF_BASELINES``; default
``~/.cache/ttsf-bench/baselines``), its interpreter in ``NAME/.venv`` (or
``$TTSF_<NAME>_PYTHON``). A missing checkout, interpreter or checkpoint makes the system
"not ready" with that message; nothing is ever substituted. Placeholder (random-init)
checkpoints are refused unless the run allows them (tests; the row is then marked).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from eval.systems.base import Context, GenerationError, Output, System
from eval.systems.inputs import reference_audio_path, source_image
from ttsf import media
from ttsf.data.manifest import Item
from ttsf.hashing import sha256_file as file_sha256  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

ENV_ROOT = "TTSF_BASELINES"
ENV_ROOTS = ("TTSF_BASELINES_ROOT", ENV_ROOT)
#: ``baselines/upstream/`` (files that run inside the upstream interpreters)
UPSTREAM_DIR = Path(__file__).resolve().parent / "upstream"
COMPAT = UPSTREAM_DIR / "compat.py"
#: an upstream output whose length differs from the driving audio by more frames than
#: this is an error; a smaller difference is padded (last frame) or trimmed, and noted
MAX_LENGTH_FIX_FRAMES = 3


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A checkpoint file inside the upstream checkout.

    sha256: pinned hash, or ``None`` where upstream publishes none (the hash of the
    user's file is then recorded in every results.json).
    """

    path: str
    sha256: Optional[str]
    source: str
    url: Optional[str] = None
    size: Optional[int] = None  # bytes, where known
    sha256_prefix: Optional[str] = None  # fixed by the file name where no full hash is published (torch.hub)


@dataclasses.dataclass(frozen=True)
class ExtraRepo:
    """A second repository the upstream needs at run time (e.g. a torch.hub repo), laid out
    at ``commit`` in ``dest`` (relative to the checkout) by ``setup``."""

    repo: str
    commit: str
    dest: str


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """How ``python -m baselines setup`` builds an upstream's interpreter.

    mode: ``"overlay"``: a venv whose ``.pth`` adds ttsf-bench's own site-packages
    (torch 2.14.1, NumPy 2, OpenCV, ...) behind ``pins`` installed into it (no second
    torch: seconds, ~80 MB); ``"venv"``: a fresh venv with ``pins`` (torch==2.14.1 always
    pinned); ``"docker"``: cannot run on Python 3.11, see ``dockerfile``.
    pins: exact requirements installed into the env.
    notes: why the pins differ from the upstream's requirements (one line each).
    imports: modules the upstream imports (``check`` tries them in the env).
    """

    mode: str
    pins: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    dockerfile: Optional[str] = None
    #: ``(folder in the checkout, argv)`` run with the env's python after the pins (``{python}``)
    build: tuple[tuple[str, tuple[str, ...]], ...] = ()


def baselines_root() -> Path:
    env = next((os.environ[k] for k in ENV_ROOTS if os.environ.get(k)), None)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ttsf-bench" / "baselines"


class ExternalBaseline(System):
    """An audio-driven talking-face (or face-conditioned TTS) system run from its own checkout.

    Subclasses set ``key`` (folder and env-var name), ``repo``, ``commit``,
    ``checkpoints``, ``image_size`` and implement :meth:`command` and :meth:`find_output`.
    """

    key: str = ""
    repo: str = ""
    commit: str = ""
    checkpoints: tuple[Checkpoint, ...] = ()
    image_size: int = 256
    timeout_s: float = 1800.0
    produces = ("audio", "video")  # the video (with the driving speech muxed in) and that speech
    speech_source = "gt"
    env: EnvSpec = EnvSpec("venv")
    #: the upstream's own files ``setup`` creates (folders it writes into but does not ship)
    make_dirs: tuple[str, ...] = ()
    #: other repositories laid out inside the checkout (see :class:`ExtraRepo`)
    extra_repos: tuple[ExtraRepo, ...] = ()
    #: environment variables of every upstream run (``{checkout}`` is substituted)
    run_env: tuple[tuple[str, str], ...] = ()

    def __init__(self, speech: str = "gt", **options: Any):
        super().__init__(speech=speech, **options)
        if speech != "gt" and not speech.startswith("system:"):
            raise ValueError(f"{self.key}: speech must be 'gt' or 'system:NAME', got {speech!r}")
        self.speech = speech
        self.speech_source = "gt" if speech == "gt" else "tts"
        self._hashes: dict[str, str] = {}
        self._speech_system: Optional[System] = None

    def speech_system(self) -> System:
        """The TTS whose speech drives the cascade (created once: its model loads once)."""
        if self._speech_system is None:
            from eval.systems import create

            self._speech_system = create(self.speech.split(":", 1)[1])
        return self._speech_system

    # ------------------------------------------------------------------ installation
    @property
    def checkout(self) -> Path:
        return Path(os.environ.get(f"TTSF_{self.key.upper()}_DIR", baselines_root() / self.key)).expanduser()

    @property
    def python(self) -> Path:
        env = os.environ.get(f"TTSF_{self.key.upper()}_PYTHON")
        return Path(env).expanduser() if env else self.checkout / ".venv" / "bin" / "python"

    def install_hint(self) -> str:
        return (f"python -m baselines setup {self.key}  (lays out {self.repo} at {self.commit[:12]} in "
                f"{self.checkout} and builds its interpreter {self.python}); then place the checkpoints "
                f"{', '.join(c.path for c in self.checkpoints)} (`python -m baselines check {self.key}` lists them)")

    def readiness(self) -> tuple[bool, str]:
        hint = (f"run `python -m baselines setup {self.key}`; "
                f"`python -m baselines check {self.key}` lists what is missing")
        if not self.checkout.is_dir():
            return False, (f"not installed: {self.checkout} does not exist ({hint}; upstream {self.repo} at "
                           f"{self.commit[:12]}; details: baselines/{self.key}.py)")
        if self.env.mode == "docker" and not os.environ.get(f"TTSF_{self.key.upper()}_PYTHON"):
            image = os.environ.get(self.docker_image_var)
            if not image or shutil.which("docker") is None:
                return False, (f"{self.key} does not run on Python 3.11: build {self.env.dockerfile} "
                               f"(docker build -t IMAGE -f {self.env.dockerfile} baselines/docker) "
                               f"and set {self.docker_image_var}=IMAGE"
                               f"{'' if shutil.which('docker') else ' (no docker binary on PATH)'}; or set "
                               f"TTSF_{self.key.upper()}_PYTHON to an interpreter you built (docs/baselines.md)")
        elif not self.python.is_file():
            return False, f"no interpreter at {self.python} ({hint}, or set TTSF_{self.key.upper()}_PYTHON)"
        for ck in self.checkpoints:
            path = self.checkout / ck.path
            if not path.is_file():
                return False, (f"checkpoint {ck.path} missing in {self.checkout} (from {ck.source}"
                               f"{'; sha256 ' + ck.sha256 if ck.sha256 else ''})")
        placeholders = self.placeholder_files()
        if placeholders and not self.allow_placeholder:
            from baselines.placeholder import refusal

            return False, refusal(self.name, placeholders)
        for ck in self.checkpoints:
            path = self.checkout / ck.path
            if str(path) in placeholders:
                continue
            if ck.sha256 is not None and self._sha(path) != ck.sha256:
                return False, f"checkpoint {path} has sha256 {self._sha(path)}, expected {ck.sha256} ({ck.source})"
            if ck.sha256_prefix is not None and not self._sha(path).startswith(ck.sha256_prefix):
                return False, (f"checkpoint {path} has sha256 {self._sha(path)}, expected one starting "
                               f"{ck.sha256_prefix} ({ck.source})")
        if self.speech != "gt":
            from eval.systems import REGISTRY

            name = self.speech.split(":", 1)[1]
            if name not in REGISTRY:
                return False, f"speech system {name!r} (the TTS for the cascade) is not registered yet"
        head = self.checkout_commit()
        if head is not None and head != self.commit:
            log.warning("%s: checkout at %s, pinned commit is %s", self.key, head, self.commit)
        return True, f"ready ({self.checkout}{', PLACEHOLDER weights' if placeholders else ''})"

    @property
    def docker_image_var(self) -> str:
        return f"TTSF_{self.key.upper()}_DOCKER_IMAGE"

    def python_argv(self) -> list[str]:
        """How to start the upstream's Python: its interpreter, or ``docker run IMAGE python`` for
        ``env.mode == "docker"`` (checkout and temp folder mounted at the same paths)."""
        if self.env.mode != "docker" or os.environ.get(f"TTSF_{self.key.upper()}_PYTHON"):
            return [str(self.python)]
        tmp = tempfile.gettempdir()
        return ["docker", "run", "--rm", "-v", f"{self.checkout}:{self.checkout}", "-v", f"{tmp}:{tmp}",
                "-w", str(self.checkout), os.environ.get(self.docker_image_var, "IMAGE"), "python"]

    def placeholder_files(self) -> list[str]:
        """Checkpoints of this checkout that are random-init placeholders (see baselines/placeholder.py)."""
        from baselines.placeholder import is_placeholder

        return [str(self.checkout / ck.path) for ck in self.checkpoints if is_placeholder(self.checkout / ck.path)]

    def checkout_commit(self) -> Optional[str]:
        try:
            out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.checkout, capture_output=True, text=True,
                                 timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    def _sha(self, path: Path) -> str:
        key = str(path)
        if key not in self._hashes:
            self._hashes[key] = file_sha256(path)
        return self._hashes[key]

    def config(self) -> dict:
        cfg = super().config()
        cfg.update(repo=self.repo, commit=self.commit, command=self.command_template())
        # the weights define the outputs: new (or placeholder vs real) weights -> new cache key
        cfg["checkpoints"] = {ck.path: self._sha(self.checkout / ck.path) for ck in self.checkpoints
                              if (self.checkout / ck.path).is_file()}
        if self.speech != "gt":  # the driving TTS is part of what defines the outputs (and the cache key)
            cfg["speech_system"] = self.speech_system().config()
        return cfg

    def provenance(self) -> dict:
        out = {"repo": self.repo, "pinned_commit": self.commit, "checkout_commit": None, "checkpoints": {},
               "checkpoints_pinned": {ck.path: ck.sha256 for ck in self.checkpoints}}
        if self.checkout.is_dir():
            out["checkout_commit"] = self.checkout_commit()
            for ck in self.checkpoints:
                path = self.checkout / ck.path
                out["checkpoints"][ck.path] = self._sha(path) if path.is_file() else None
            placeholders = self.placeholder_files()
            if placeholders:
                out["placeholder_weights"] = placeholders
        return out

    # ------------------------------------------------------------------ running
    def command_template(self) -> str:
        """The command with placeholders, for provenance (``{audio}``, ``{image}``, ``{out}``)."""
        return " ".join(self.command(Path("{audio}"), Path("{image}"), Path("{out}")))

    def command(self, audio: Path, image: Path, out_dir: Path) -> list[str]:
        raise NotImplementedError

    def find_output(self, out_dir: Path, started: float) -> Path:
        """The upstream's output file in ``out_dir`` (raise GenerationError when absent)."""
        found = sorted(p for p in out_dir.rglob("*.mp4") if p.stat().st_mtime >= started - 1)
        if len(found) != 1:
            raise GenerationError(f"{self.key}: expected one .mp4 in {out_dir}, found {len(found)}",
                                  code="missing_output")
        return found[0]

    def driving_audio(self, item: Item, ctx: Context) -> np.ndarray:
        if self.speech == "gt":
            try:
                return media.read_audio(reference_audio_path(item, ctx.data_root), media.SAMPLE_RATE)
            except media.MediaError as exc:
                raise GenerationError(f"reference audio: {exc}", code="bad_input") from exc
        out = self.speech_system().generate(item, Context(ctx.data_root, ctx.out_dir / "_speech", ctx.seed, ctx.device))
        if out.audio is None:
            raise GenerationError(f"{self.speech} produced no audio for {item.id}")
        return media.read_audio(out.audio, media.SAMPLE_RATE)

    def prepare_image(self, item: Item, ctx: Context) -> np.ndarray:
        """The source frame, centre-cropped to a square and resized to ``image_size``."""
        import cv2

        try:
            image = source_image(item, ctx.data_root)
        except media.MediaError as exc:
            raise GenerationError(f"source image: {exc}", code="bad_input") from exc
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        crop = image[top:top + side, left:left + side]
        return cv2.resize(crop, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA)

    def run_upstream(self, argv: list[str], work: Path, log_path: Path, env: Optional[dict] = None) -> None:
        fixed = {k: v.format(checkout=self.checkout) for k, v in self.run_env}
        with open(log_path, "w") as log_file:
            try:
                proc = subprocess.run(argv, cwd=self.checkout, stdout=log_file, stderr=subprocess.STDOUT,
                                      timeout=self.timeout_s, env={**os.environ, **fixed, **(env or {})})
            except subprocess.TimeoutExpired as exc:
                raise GenerationError(f"{self.key} timed out after {self.timeout_s:.0f} s (log {log_path})",
                                      code="timeout") from exc
        if proc.returncode != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise GenerationError(f"{self.key} exited with {proc.returncode}: {' | '.join(tail)} (log {log_path})")

    def generate(self, item: Item, ctx: Context) -> Output:
        import cv2

        self.check_ready()
        audio = self.driving_audio(item, ctx)
        image = self.prepare_image(item, ctx)
        with tempfile.TemporaryDirectory(prefix=f"ttsf-{self.key}-") as tmp:
            work = Path(tmp)
            wav = media.write_audio(work / "audio.wav", audio, media.SAMPLE_RATE)
            png = work / "source.png"
            cv2.imwrite(str(png), image[:, :, ::-1])
            out_dir = work / "out"
            out_dir.mkdir()
            started = time.time()
            log_path = ctx.output_path(item, ".log")
            self.run_upstream(self.command(wav, png, out_dir), work, log_path)
            produced = self.find_output(out_dir, started)
            try:
                clip = media.read_video(produced, fps=media.VIDEO_FPS)
            except media.MediaError as exc:
                raise GenerationError(f"{self.key} output unreadable: {exc}") from exc
        frames, notes = self.normalise(self.crop_output(clip.frames), audio.shape[0] / media.SAMPLE_RATE)
        mp4 = media.write_video(ctx.output_path(item, ".mp4"), frames, media.VIDEO_FPS,
                                audio=audio, sample_rate=media.SAMPLE_RATE)
        wav_out = media.write_audio(ctx.output_path(item, ".wav"), audio, media.SAMPLE_RATE)
        return Output(video=mp4, audio=wav_out, notes=notes)

    def crop_output(self, frames: np.ndarray) -> np.ndarray:
        """The generated picture inside the upstream's frames (``uint8 (T, H, W, 3)``); all of it by default."""
        return frames

    def normalise(self, frames: np.ndarray, seconds: float) -> tuple[np.ndarray, tuple[str, ...]]:
        """The upstream's frames (already resampled to 25 fps) at ``image_size``² and as many frames
        as the driving audio needs (``ceil(seconds * 25)``).

        frames: ``uint8 (T, H, W, 3)``. A length off by at most :data:`MAX_LENGTH_FIX_FRAMES`
        is fixed (last frame repeated, or extra frames dropped) and noted; more is an error.
        """
        import cv2

        notes = []
        size = self.image_size
        if frames.shape[1:3] != (size, size):
            notes.append(f"resized {frames.shape[2]}x{frames.shape[1]} -> {size}x{size}")
            frames = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])
        want = max(1, media.duration_frames(seconds))
        diff = want - frames.shape[0]
        if abs(diff) > MAX_LENGTH_FIX_FRAMES:
            raise GenerationError(f"{self.key} produced {frames.shape[0]} frames for {seconds:.3f} s of audio "
                                  f"({want} frames at 25 fps)", code="length_mismatch")
        if diff > 0:
            frames = np.concatenate([frames, np.repeat(frames[-1:], diff, axis=0)])
            notes.append(f"padded {diff} frame(s) (last frame) to the audio length")
        elif diff < 0:
            frames = frames[:want]
            notes.append(f"trimmed {-diff} frame(s) to the audio length")
        return np.ascontiguousarray(frames), tuple(notes)
