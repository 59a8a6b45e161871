"""Talking-head rendering by image warping: head pose, speech-driven mouth, blinks.

Pose convention (degrees, camera frame x right, y down, z towards the viewer):
positive yaw turns the nose towards image right, positive pitch turns it up,
positive roll rotates the face clockwise in the image. The face is modelled as
the front half of an ellipsoid over the head ellipse of the aligned portrait;
each output pixel is traced back to the portrait by inverting the rotation of
that surface (fixed-point iteration), the background outside the head stays
still, and the mouth (the portrait's own lips and jaw warped along speech-driven
shapes, :mod:`eval.synth.lips`) and eyelids are deformed in the portrait's frontal
frame before the rotation.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Optional

import numpy as np

from eval.synth.faces import HEAD_AXES, HEAD_CENTRE

if TYPE_CHECKING:
    from eval.synth.lips import MouthRig

#: Pose limits (yaw, pitch, roll) in degrees.
POSE_LIMITS = (20.0, 10.0, 10.0)


def pose_trajectory(rng: np.random.Generator, n_frames: int, fps: float = 25.0,
                    limits: tuple[float, float, float] = POSE_LIMITS) -> np.ndarray:
    """Smooth random head pose ``(n_frames, 3)``: yaw, pitch, roll in degrees.

    Each angle is a sum of three sinusoids (0.08–0.45 Hz, random phase) whose
    amplitudes add up to at most its limit, so ``|angle| <= limit`` always.
    """
    t = np.arange(n_frames, dtype=np.float64) / fps
    out = np.zeros((n_frames, 3), dtype=np.float64)
    for k, limit in enumerate(limits):
        weights = rng.dirichlet(np.ones(3))
        total = limit * rng.uniform(0.6, 1.0)
        freqs = rng.uniform(0.08, 0.45, size=3)
        phases = rng.uniform(0.0, 2.0 * math.pi, size=3)
        for w, f, p in zip(weights, freqs, phases):
            out[:, k] += total * w * np.sin(2.0 * math.pi * f * t + p)
    return out


def mouth_track(audio: np.ndarray, n_frames: int, samples_per_frame: int = 640) -> np.ndarray:
    """Mouth opening ``(n_frames,)`` in [0, 1] from the speech energy of each video frame.

    Frame ``k`` uses samples ``[k*spf, (k+1)*spf)``; its RMS level in dB is mapped
    linearly from 20 dB below the clip's loud level (95th percentile) -> 0 to
    the loud level -> 1, then smoothed with a (0.25, 0.5, 0.25) kernel.
    """
    need = n_frames * samples_per_frame
    a = np.zeros(need, dtype=np.float64)
    a[: min(need, audio.shape[0])] = audio[:need]
    rms = np.sqrt(np.mean(a.reshape(n_frames, samples_per_frame) ** 2, axis=1) + 1e-12)
    db = 20.0 * np.log10(rms + 1e-8)
    loud = np.percentile(db, 95)
    m = np.clip((db - (loud - 20.0)) / 20.0, 0.0, 1.0)
    padded = np.pad(m, 1, mode="edge")
    return np.clip(0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:], 0.0, 1.0)


#: Eyelid closure over a blink's frames.
_BLINK_SHAPE = np.array([0.35, 0.8, 1.0, 1.0, 0.7, 0.35, 0.1])


def blink_track(rng: np.random.Generator, n_frames: int, fps: float = 25.0) -> np.ndarray:
    """Eyelid closure ``(n_frames,)`` in [0, 1]: blinks of 7 frames every 1.5–4.5 s."""
    out = np.zeros(n_frames, dtype=np.float64)
    start = rng.uniform(0.3, 2.5) * fps
    while start < n_frames:
        s = int(start)
        seg = _BLINK_SHAPE[: max(0, min(len(_BLINK_SHAPE), n_frames - s))]
        out[s : s + len(seg)] = np.maximum(out[s : s + len(seg)], seg)
        start += rng.uniform(1.5, 4.5) * fps
    return out


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """3×3 rotation ``Rz(roll) @ Ry(yaw) @ Rx(pitch)`` in the frame described in the module doc."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclasses.dataclass
class Renderer:
    """Renders frames of one aligned portrait.

    image: RGB ``uint8`` ``(size, size, 3)``; landmarks: ``(5, 2)`` YuNet landmarks
    (right eye, left eye, nose, mouth right, mouth left) in pixels; rig: the portrait's
    :class:`eval.synth.lips.MouthRig` (moves the lips and jaw; without it the mouth stays still).
    """

    image: np.ndarray
    landmarks: np.ndarray
    rig: Optional["MouthRig"] = None
    depth: float = 0.85  # ellipsoid depth, in units of the head's half-width
    nose_height: float = 0.5  # nose protrusion above the ellipsoid, in eye distances
    iterations: int = 6
    grid_step: Optional[int] = None  # pose solved every ``grid_step`` px (default ~size/64), upsampled

    def __post_init__(self):
        size = self.image.shape[0]
        self.size = size
        if self.grid_step is None:
            # the largest divisor of ``size`` that is at most size / 64
            self.grid_step = max(d for d in range(1, max(1, size // 64) + 1) if size % d == 0)
        if size % self.grid_step:
            raise ValueError(f"portrait size {size} is not a multiple of the grid step {self.grid_step}")
        n = size // self.grid_step
        # The pose is solved on a coarse grid whose points sit where cv2.resize's
        # INTER_LINEAR expects them ((k + 0.5) * step - 0.5); the displacement is upsampled.
        coarse = (np.arange(n, dtype=np.float32) + 0.5) * self.grid_step - 0.5
        yy, xx = np.meshgrid(coarse, coarse, indexing="ij")
        self.cx, self.cy = HEAD_CENTRE[0] * size - 0.5, HEAD_CENTRE[1] * size - 0.5
        self.ax, self.ay = HEAD_AXES[0] * size, HEAD_AXES[1] * size
        self.px, self.py = xx - self.cx, yy - self.cy  # grid point, relative to the head centre
        full = np.arange(size, dtype=np.float32)
        self.fx, self.fy = np.meshgrid(full, full, indexing="xy")  # identity maps (x, y)
        lm = np.asarray(self.landmarks, dtype=np.float64)
        self.eyes = lm[:2]
        self.eye_dist = float(np.linalg.norm(lm[1] - lm[0]))
        self.nose = (float(lm[2, 0] - self.cx), float(lm[2, 1] - self.cy))
        self._img = np.ascontiguousarray(self.image)

    # -- geometry in head-relative coordinates -------------------------------------------
    def _surface(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Depth ``z`` of the face surface and the head weight ``w`` at ``(x, y)``."""
        r2 = (x / self.ax) ** 2 + (y / self.ay) ** 2
        z = (self.depth * self.ax) * np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
        sigma2 = 2.0 * (0.22 * self.eye_dist) ** 2
        nose = np.exp(-((x - self.nose[0]) ** 2 + (y - self.nose[1]) ** 2) / sigma2)
        z = z + (self.nose_height * self.eye_dist) * nose
        t = np.clip((np.sqrt(r2) - 1.05) / 0.4, 0.0, 1.0)
        w = 1.0 - t * t * (3.0 - 2.0 * t)
        return z, w

    def _unrotate(self, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Displacement (portrait minus output position) of every coarse grid point under ``rot``."""
        a = rot[:2, :2].astype(np.float32)
        b = rot[:2, 2].astype(np.float32)
        inv = np.linalg.inv(rot[:2, :2]).astype(np.float32)
        qx, qy = self.px.copy(), self.py.copy()
        for _ in range(self.iterations):
            z, w = self._surface(qx, qy)
            fx = qx + w * (a[0, 0] * qx + a[0, 1] * qy + b[0] * z - qx)
            fy = qy + w * (a[1, 0] * qx + a[1, 1] * qy + b[1] * z - qy)
            ex, ey = self.px - fx, self.py - fy
            qx = qx + w * (inv[0, 0] * ex + inv[0, 1] * ey) + (1.0 - w) * ex
            qy = qy + w * (inv[1, 0] * ex + inv[1, 1] * ey) + (1.0 - w) * ey
        return qx - self.px, qy - self.py

    def _zone(self, qx: np.ndarray, qy: np.ndarray, x0: float, x1: float, y0: float, y1: float):
        """Output-pixel slices (rows, cols) covering portrait region ``[x0, x1] × [y0, y1]``."""
        inside = (qx >= x0) & (qx <= x1) & (qy >= y0) & (qy <= y1)
        rows, cols = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
        if rows.size == 0:
            return None
        s, size = self.grid_step, self.size
        return (slice(max(0, (rows[0] - 1) * s), min(size, (rows[-1] + 2) * s)),
                slice(max(0, (cols[0] - 1) * s), min(size, (cols[-1] + 2) * s)))

    def render(self, yaw: float, pitch: float, roll: float, mouth: float, blink: float,
               spread: float = 0.0) -> np.ndarray:
        """One RGB ``uint8`` ``(size, size, 3)`` frame; angles in degrees, mouth/blink in [0, 1], spread in [-1, 1]."""
        import cv2

        dx, dy = self._unrotate(rotation(yaw, pitch, roll))
        size = self.size
        cqx, cqy = dx + self.px + self.cx, dy + self.py + self.cy  # portrait coordinates of the grid
        qx = self.fx + cv2.resize(dx, (size, size), interpolation=cv2.INTER_LINEAR)
        qy = self.fy + cv2.resize(dy, (size, size), interpolation=cv2.INTER_LINEAR)
        sy = qy.copy()
        if blink > 1e-3:
            d = self.eye_dist
            for ex, ey in self.eyes:
                zone = self._zone(cqx, cqy, ex - 0.7 * d, ex + 0.7 * d, ey - 0.35 * d, ey + 0.35 * d)
                if zone is None:
                    continue
                zx, zy = qx[zone], qy[zone]
                bump = np.exp(-(((zx - ex) / (0.3 * d)) ** 2) - ((zy - ey) / (0.14 * d)) ** 2)
                sy[zone] -= float(blink) * 0.2 * d * bump
        if self.rig is not None:
            source = self.rig.warp(float(mouth), float(spread))
        elif mouth > 1e-3 or abs(spread) > 1e-3:
            raise ValueError("this Renderer has no mouth rig (give it one to move the mouth)")
        else:
            source = self._img
        return cv2.remap(source, qx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
