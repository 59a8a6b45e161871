"""TTSF: one portrait + text -> 16 kHz speech and a 25 fps talking-face video.

Wiring (SPEC §1)::

    source I_s --E_v--> f = f_id + f_m (E_m)      f_id (or f, ablation "w/ motion") -> TTS condition
    text --TTS--> mel (-> vocoder -> wav), features e_t, f̃_t, energy, durations
    features --audio mapper--> f_lip (T video frames)
    f_m,0 (source motion) + f_lip --prior + OT-CFM + normaliser--> f̂_m (head motion)
    G(source feats; layers 1..n: f_id + f̂_m, lip layers: f_id + f_lip) -> frames

Frame count = ceil(duration · fps) with duration = samples / sample_rate.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import numpy as np
import torch
from torch import nn

from ttsf.atomic import atomic_save
from ttsf.config import DictConfig
from ttsf.face.align import DEFAULT_TEMPLATE, prepare_source
from ttsf.face.config import FaceConfig
from ttsf.face.model import FaceBranch
from ttsf.motion.audio_mapper import AudioMapper
from ttsf.motion.config import MotionConfig
from ttsf.motion.sampler import MotionSampler
from ttsf.vocoder.chunks import vocoder_pieces

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "ttsf-joint/1"
TTS_CONDITIONS = ("f_id", "f_id+f_m")


@dataclasses.dataclass(frozen=True)
class TTSFConfig(DictConfig):
    """The joint model. ``tts`` holds :class:`ttsf.tts.config.TTSConfig` fields (its
    ``cond_mode``/``cond_dim`` are set here); ``motion``'s ``d_emb``/``d_enc``/``motion_dim``
    are derived from the TTS and face configs. ``tts_condition``: ``"f_id"`` (paper) or
    ``"f_id+f_m"`` (Table 3 ablation "w/ motion", i.e. the raw feature E_v(I))."""

    face: FaceConfig = dataclasses.field(default_factory=FaceConfig)
    motion: MotionConfig = dataclasses.field(default_factory=MotionConfig)
    tts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    tts_condition: str = "f_id"
    vocoder: str = "hifigan-ts"
    fps: int = 25
    align_template: tuple = DEFAULT_TEMPLATE

    def __post_init__(self):
        if isinstance(self.face, Mapping):
            object.__setattr__(self, "face", FaceConfig.from_dict(self.face))
        if isinstance(self.motion, Mapping):
            object.__setattr__(self, "motion", MotionConfig.from_dict(self.motion))
        if self.tts_condition not in TTS_CONDITIONS:
            raise ValueError(f"tts_condition must be one of {TTS_CONDITIONS}, got {self.tts_condition!r}")
        object.__setattr__(self, "align_template", tuple(tuple(float(v) for v in p) for p in self.align_template))
        object.__setattr__(self, "tts", dict(self.tts))

    def to_dict(self) -> dict:
        return {"face": self.face.to_dict(), "motion": self.motion.to_dict(), "tts": dict(self.tts),
                "tts_condition": self.tts_condition, "vocoder": self.vocoder, "fps": self.fps,
                "align_template": [list(p) for p in self.align_template]}


def build_tts(cfg: TTSFConfig):
    """The speech branch (``ttsf.tts.model.TTS``) conditioned on a face feature."""
    from ttsf.tts.config import TTSConfig
    from ttsf.tts.model import TTS

    fields = dict(cfg.tts)
    fields.update(cond_mode="face", cond_dim=cfg.face.style_dim)
    return TTS(TTSConfig.from_dict(fields))


@dataclasses.dataclass
class Synthesis:
    """Output of :meth:`TTSF.synthesize`: ``wav`` float32 ``(samples,)`` at ``sample_rate``
    and ``frames`` uint8 ``(T, H, W, 3)`` RGB at ``fps``; ``timings`` in seconds per stage."""

    wav: np.ndarray
    sample_rate: int
    frames: np.ndarray
    fps: int
    source: np.ndarray
    timings: dict
    info: dict


def n_video_frames(n_samples: torch.Tensor, sample_rate: int, fps: int) -> torch.Tensor:
    """``ceil(n_samples / sample_rate · fps)`` in exact integer arithmetic."""
    return (n_samples.long() * fps + sample_rate - 1) // sample_rate


def to_image_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` or ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).float().div(127.5).sub(1)
    if x.dim() == 3:
        x = x[None]
    return x.permute(0, 3, 1, 2).contiguous()


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """float ``(..., 3, H, W)`` in [-1, 1] -> uint8 ``(..., H, W, 3)``."""
    x = ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.movedim(-3, -1).cpu().numpy()


class TTSF(nn.Module):
    """The joint model: speech branch ``tts``, face branch ``face``, ``mapper``, ``sampler``."""

    def __init__(self, cfg: TTSFConfig, tts: Optional[nn.Module] = None):
        super().__init__()
        self.tts = tts if tts is not None else build_tts(cfg)
        tcfg = self.tts.cfg
        motion = dataclasses.replace(cfg.motion, motion_dim=cfg.face.style_dim, d_emb=tcfg.d_emb, d_enc=tcfg.d_enc)
        self.cfg = dataclasses.replace(cfg, motion=motion)
        self.face = FaceBranch(cfg.face)
        self.mapper = AudioMapper(motion)
        self.sampler = MotionSampler(motion)
        self._vocoder = None

    # ------------------------------------------------------------------ pieces
    @property
    def sample_rate(self) -> int:
        return int(self.tts.cfg.mel.sample_rate)

    @property
    def hop_length(self) -> int:
        return int(self.tts.cfg.mel.hop_length)

    def frames_for_mel(self, mel_lengths: torch.Tensor) -> torch.Tensor:
        """Video frames for mel lengths: ``ceil(hop · L_m / sr · fps)``."""
        return n_video_frames(mel_lengths * self.hop_length, self.sample_rate, self.cfg.fps)

    def speaker_condition(self, enc: dict) -> torch.Tensor:
        """TTS condition ``(B, style_dim)``: f_id, or f = f_id + f_m for the "w/ motion" ablation."""
        return enc["f_id"] if self.cfg.tts_condition == "f_id" else enc["f"]

    def vocoder(self):
        """The configured vocoder; its mel recipe must be the TTS's (else VocoderError)."""
        if self._vocoder is None:
            from ttsf.vocoder import load_vocoder
            from ttsf.vocoder.base import check_mel_config

            vocoder = load_vocoder(self.cfg.vocoder)
            check_mel_config(self.tts.cfg.mel, vocoder)
            self._vocoder = vocoder
        return self._vocoder

    # ------------------------------------------------------------------ training
    def joint_losses(self, source: torch.Tensor, frames: torch.Tensor, offsets: torch.Tensor,
                     tokens: torch.Tensor, token_lengths: torch.Tensor, mel: torch.Tensor,
                     mel_lengths: torch.Tensor, generator: Optional[torch.Generator] = None,
                     render: Optional[int] = None, render_start: Optional[torch.Tensor] = None) -> dict:
        """Generator-side forward of joint training on windows of ``T`` frames.

        source ``(B, 3, S, S)``; frames ``(B, T, 3, S, S)`` ground-truth window starting at
        video frame ``offsets`` ``(B,)``; tokens ``(B, L_t)``; mel ``(B, 80, L_m)``
        (log-mel, whole utterance). The motion sampler learns from all ``T`` frames (paper:
        32); the generator renders ``render`` of them (default all), frames
        ``render_start[i] .. render_start[i] + render - 1`` of window ``i`` (default 0). A
        shorter image window saves generator compute; E_m then reads the whole window again
        without gradient for the sampler, whose targets are detached anyway. Returns ``fake``
        and the ground-truth frames it renders, ``real`` (both ``(B, render, 3, S, S)``),
        ``f_lip`` ``(B, render, D)``, ``mask`` ``(B, 1, render)``,
        ``render_offsets`` (video frame of each rendered window's first frame) and
        ``loss_tts``, ``loss_ae``, ``loss_prior``, ``loss_cfm`` plus the TTS components
        ``tts_prior``, ``tts_duration``, ``tts_cfm`` (for logging).
        """
        b, t = frames.shape[:2]
        r = t if render is None else int(render)
        if not 1 <= r <= t:
            raise ValueError(f"render must be in 1..{t} (the window), got {render}")
        start = torch.zeros(b, dtype=torch.long) if render_start is None else render_start.long().cpu()
        if start.shape != (b,) or int(start.min()) < 0 or int(start.max()) + r > t:
            raise ValueError(f"render_start must be (B,) in 0..{t - r}, got {render_start}")
        src = self.face.encode(source)
        out = self.tts(tokens, token_lengths, mel, mel_lengths, self.speaker_condition(src))
        n_frames = self.frames_for_mel(mel_lengths)
        f_lip_all = self.mapper(out["features"], n_frames)
        if f_lip_all.shape[1] < int(offsets.max()) + t:
            f_lip_all = nn.functional.pad(f_lip_all, (0, 0, 0, int(offsets.max()) + t - f_lip_all.shape[1]))
        f_lip = torch.stack([f_lip_all[i, int(offsets[i]): int(offsets[i]) + t] for i in range(b)])
        rows = torch.arange(b)[:, None]
        idx = start[:, None] + torch.arange(r)[None]  # (B, r) rendered positions in the window
        f_m = self.face.motion_of(frames[rows, idx].flatten(0, 1)).view(b, r, -1)
        f_m_all = f_m
        if r < t:  # the sampler's extra frames: E_m without gradient, only where not rendered
            rest = torch.ones(b, t, dtype=torch.bool)
            rest[rows, idx] = False
            f_m_all = f_m.new_empty(b, t, f_m.shape[-1])
            f_m_all[rows, idx] = f_m.detach()
            with torch.no_grad():
                f_m_all[rest] = self.face.motion_of(frames[rest])
        feats = [x.repeat_interleave(r, 0) for x in src["feats"]]
        f_id = src["f_id"].repeat_interleave(r, 0)
        f_lip_r = f_lip[rows, idx]
        fake = self.face.generate(feats, f_id, f_m.flatten(0, 1), f_lip_r.flatten(0, 1))
        fake = fake.view(b, r, *frames.shape[2:])
        valid = (offsets[:, None] + torch.arange(t, device=frames.device)[None]) < n_frames[:, None]
        mask = valid[:, None].to(frames.dtype)
        motion = self.sampler.losses(f_m_all.transpose(1, 2), f_lip.detach().transpose(1, 2), mask, generator)
        return {"fake": fake, "real": frames[rows, idx], "f_lip": f_lip_r, "mask": mask[:, 0][rows, idx][:, None],
                "render_offsets": offsets + start.to(offsets.device), "loss_tts": out["loss"],
                "tts_prior": out["loss_prior"].detach(), "tts_duration": out["loss_duration"].detach(),
                "tts_cfm": out["loss_cfm"].detach(), "loss_ae": motion["loss_ae"],
                "loss_prior": motion["loss_prior"], "loss_cfm": motion["loss_cfm"]}

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def synthesize(self, text: str, image: Union[str, Path, np.ndarray], seed: int = 0, steps: int = 10,
                   temperature: Optional[float] = None, motion_steps: Optional[int] = None,
                   motion_temperature: float = 1.0, length_scale: float = 1.0,
                   face_index: Optional[int] = None, align: bool = True, video: bool = True,
                   overlap: bool = True) -> Synthesis:
        """Speech + video for ``text`` spoken by the face in ``image`` (path or RGB uint8 array).

        ``seed`` fixes every random draw (TTS noise, then head-motion noise); ``steps`` are
        the Euler steps of the TTS decoder (and of the motion sampler unless
        ``motion_steps``); ``align=False`` takes an already aligned ``(S, S, 3)`` portrait;
        ``video=False`` stops after the speech (``frames`` is then empty, ``(0, S, S, 3)``).
        ``overlap`` shares the vocoder and the render between two threads (after the audio
        mapper and motion sampler): the vocoder's two time pieces (each with its receptive
        field of real context, :mod:`ttsf.vocoder.chunks`) first, then the render's chunks of
        16 frames, each task to whichever thread is free. The speech is made of the same two
        pieces in every mode (a whole-utterance vocoder call to float rounding), so the output
        is the serial run's exactly; on two cores the wall time is about
        ``tts + (vocoder + render) / 2`` instead of the sum. ``timings`` of the vocoder and the
        render are then summed over both threads and add up to more than the wall time.
        """
        was_training = self.training
        self.eval()
        lap = _Laps()
        timings = lap.timings
        size = self.cfg.face.size
        portrait = self._input_portrait(image, align, face_index)
        lap("align")
        device = next(self.parameters()).device
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        src = self.face.encode(to_image_tensor(portrait).to(device))
        lap("face_encode")
        out = self._speech_features(text, src, device, g, steps, temperature, length_scale)
        lap("tts")
        mel = out["mel"][:, :, : int(out["mel_lengths"][0])]
        vocoder = self.vocoder()
        speech = vocoder_pieces(vocoder, mel, 2)  # the same two pieces in every mode: the same speech
        lap("vocoder")  # loading it (first call) counts as vocoder time
        n_samples = mel.shape[-1] * vocoder.hop_length  # the vocoder's output length
        n = int(n_video_frames(torch.tensor(n_samples), self.sample_rate, self.cfg.fps))
        info = {"seed": int(seed), "steps": steps, "motion_steps": motion_steps or steps,
                "temperature": temperature, "motion_temperature": motion_temperature,
                "duration_s": n_samples / self.sample_rate, "n_frames": n}
        if not video or not overlap:
            wav = torch.cat([piece() for piece in speech], -1)[0].float().cpu().numpy()
            lap("vocoder")
        if not video:
            if was_training:
                self.train()
            empty = np.zeros((0, size, size, 3), np.uint8)
            return Synthesis(wav, self.sample_rate, empty, self.cfg.fps, portrait, timings, {**info, "n_frames": 0})
        f_m, f_lip = self._motion(src, out["features"], n, device, g, motion_steps or steps, motion_temperature, lap)
        if overlap:
            wav, video = self._two_threads(speech, src, f_m, f_lip, timings)
            lap.restart()
        else:
            video = to_uint8(self.face.animate(src, f_m.transpose(1, 2), f_lip)[0])
            lap("render")
        if len(wav) != n_samples:
            raise RuntimeError(f"vocoder returned {len(wav)} samples for {mel.shape[-1]} mel frames, "
                               f"expected {n_samples}")
        if was_training:
            self.train()
        return Synthesis(wav, self.sample_rate, video, self.cfg.fps, portrait, timings, info)

    def _input_portrait(self, image: Union[str, Path, np.ndarray], align: bool,
                        face_index: Optional[int]) -> np.ndarray:
        """The aligned uint8 ``(S, S, 3)`` portrait: aligned here, or checked when ``align=False``."""
        size = self.cfg.face.size
        if align:
            return prepare_source(image, size, face_index, self.cfg.align_template)
        portrait = np.asarray(image)
        if portrait.shape != (size, size, 3) or portrait.dtype != np.uint8:
            raise ValueError(f"align=False needs a uint8 ({size}, {size}, 3) portrait, got "
                             f"{portrait.dtype} {portrait.shape}")
        return portrait

    def _speech_features(self, text: str, src: dict, device: torch.device, g: torch.Generator, steps: int,
                         temperature: Optional[float], length_scale: float) -> dict:
        """TTS decoding conditioned on the portrait: mel, mel_lengths and the features for the audio mapper."""
        from ttsf.tts.text import text_to_tokens

        tokens = torch.tensor([text_to_tokens(text)], dtype=torch.long, device=device)
        lengths = torch.tensor([tokens.shape[1]], device=device)
        tts_kw = {} if temperature is None else {"temperature": temperature}
        return self.tts.synthesise(tokens, lengths, self.speaker_condition(src), n_steps=steps,
                                   length_scale=length_scale, generator=g, **tts_kw)

    def _motion(self, src: dict, features: dict, n: int, device: torch.device, g: torch.Generator,
                motion_steps: int, motion_temperature: float, lap: _Laps) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio mapper -> motion sampler: ``f_m`` ``(1, style_dim, n)`` and ``f_lip`` ``(1, n, style_dim)``."""
        f_lip = self.mapper(features, torch.tensor([n], device=device))
        lap("audio_mapper")
        mask = torch.ones(1, 1, n, device=device)
        f_m = self.sampler.sample(src["f_m"], f_lip.transpose(1, 2), mask,
                                  n_steps=motion_steps, temperature=motion_temperature, generator=g)
        lap("motion_sampler")
        return f_m, f_lip

    def _two_threads(self, speech: list, src: dict, f_m: torch.Tensor, f_lip: torch.Tensor,
                     timings: dict) -> tuple[np.ndarray, np.ndarray]:
        """The vocoder's two time pieces, then the render's frame chunks, taken in that order by
        whichever of two threads is free: ``(wav, uint8 video)``; each stage's time (summed
        over both threads) is added to ``timings``."""
        tasks = ([("vocoder", call) for call in speech]
                 + [("render", call) for call in self.face.frame_chunks(src, f_m.transpose(1, 2), f_lip)])
        results: list[Optional[torch.Tensor]] = [None] * len(tasks)
        order, lock, threads = iter(range(len(tasks))), threading.Lock(), torch.get_num_threads()

        def drain() -> dict[str, float]:
            torch.set_num_threads(threads)  # OpenMP's thread count is per thread
            spent = {"vocoder": 0.0, "render": 0.0}
            with torch.inference_mode():  # thread-local, like grad mode
                while True:
                    with lock:
                        i = next(order, None)
                    if i is None:
                        return spent
                    start = time.perf_counter()
                    results[i] = tasks[i][1]()
                    spent[tasks[i][0]] += time.perf_counter() - start

        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(drain)
            for stage, seconds in drain().items():
                timings[stage] = timings.get(stage, 0.0) + seconds
        for stage, seconds in other.result().items():
            timings[stage] += seconds
        start = time.perf_counter()
        wav = torch.cat([r for r, (stage, _) in zip(results, tasks) if stage == "vocoder"], -1)[0].float().cpu().numpy()
        video = to_uint8(torch.cat([r for r, (stage, _) in zip(results, tasks) if stage == "render"], 0))
        timings["render"] += time.perf_counter() - start
        return wav, video

    @torch.inference_mode()
    def reenact(self, text: str, portrait: np.ndarray, frames: np.ndarray, wav: np.ndarray) -> np.ndarray:
        """Self-reenactment (a diagnostic, not the text-driven path): render ``portrait``
        with the head motion E_m reads from ``frames`` and the lip feature of ``wav``.

        portrait: aligned uint8 ``(S, S, 3)``; frames: uint8 ``(T, S, S, 3)`` ground-truth
        video at the model's size and fps; wav: its 16 kHz speech, aligned to ``text`` by the
        TTS's monotonic alignment (teacher forcing, as in training). Returns uint8
        ``(T, S, S, 3)``. Comparing its diversity / LSE with :meth:`synthesize`'s separates
        what the generator can render from what the motion sampler and TTS produce.
        """
        from ttsf.media import mel as mel_spectrogram
        from ttsf.tts.text import text_to_tokens

        size = self.cfg.face.size
        if portrait.shape != (size, size, 3) or frames.ndim != 4 or frames.shape[1:] != (size, size, 3):
            raise ValueError(f"reenact needs ({size}, {size}, 3) images, got {portrait.shape} and {frames.shape}")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        src = self.face.encode(to_image_tensor(portrait).to(device))
        mel = torch.as_tensor(np.asarray(mel_spectrogram(np.asarray(wav, np.float32), self.tts.cfg.mel)),
                              dtype=torch.float32, device=device)[None]
        tokens = torch.tensor([text_to_tokens(text)], dtype=torch.long, device=device)
        out = self.tts(tokens, torch.tensor([tokens.shape[1]], device=device), mel,
                       torch.tensor([mel.shape[2]], device=device), self.speaker_condition(src))
        t = len(frames)
        # f_lip at the speech's own frame count (as in training), then cut / zero-padded to the video
        f_lip = self.mapper(out["features"], self.frames_for_mel(torch.tensor([mel.shape[2]], device=device)))
        f_lip = nn.functional.pad(f_lip[:, :t], (0, 0, 0, max(0, t - f_lip.shape[1])))
        f_m = torch.cat([self.face.motion_of(to_image_tensor(frames[s:s + 32]).to(device))
                         for s in range(0, t, 32)])[None]
        video = to_uint8(self.face.animate(src, f_m, f_lip)[0])
        if was_training:
            self.train()
        return video

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self, meta: Optional[dict] = None) -> dict:
        return {"format": CHECKPOINT_FORMAT, "config": self.cfg.to_dict(),
                "tts_config": self.tts.cfg.to_dict(), "model": self.state_dict(), "meta": dict(meta or {})}

    def save(self, path: Union[str, Path], meta: Optional[dict] = None) -> Path:
        blob = self.checkpoint(meta)
        return atomic_save(path, lambda tmp: torch.save(blob, tmp))

    @classmethod
    def load(cls, path: Union[str, Path], map_location: str = "cpu", tts: Optional[nn.Module] = None) -> "TTSF":
        """Load a joint checkpoint (``torch.load(weights_only=True)``)."""
        ckpt = torch.load(str(path), map_location=map_location, weights_only=True)
        if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path}: not a TTSF joint checkpoint (format {CHECKPOINT_FORMAT!r})")
        model = cls(TTSFConfig.from_dict(ckpt["config"]), tts=tts)
        model.load_state_dict(ckpt["model"])
        model.meta = ckpt.get("meta", {})
        return model.eval()


class _Laps:
    """Wall time per named stage of :meth:`TTSF.synthesize`: each call adds the time since the previous one."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.clock
        self.clock = now

    def restart(self) -> None:
        """Start the next lap now (after time already booked elsewhere)."""
        self.clock = time.perf_counter()

