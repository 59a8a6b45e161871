"""Speech-driven mouths made from the portrait's own lips (generator 2.x).

The portrait's 68 landmarks (dlib's iBUG 300-W predictor, run once per portrait) give
its real lip contours (points 48-67) and jaw line (points 0-16). Per frame,
:class:`MouthRig` moves them along a small articulation model -- opening (lower lip and
jaw drop, upper lip lifts a little), spread (corners pulled apart, lips thinner) or
rounding (corners drawn in, lips pushed out) -- and warps the portrait piecewise-affinely
on a fixed triangulation of the lip, jaw and nose points plus a fixed ring of anchors
around them, so the skin, lip colour and texture are the person's own. Between the
moved inner lip contours an inner mouth is painted: upper teeth hanging from the upper
lip, a dark cavity below, lower teeth when wide open.

The articulation signal comes from the clip's audio only: :func:`eval.synth.render.mouth_track`
(opening, speech energy) and :func:`spread_track` (share of energy above 2 kHz: fricatives
and front vowels spread the lips, low back vowels round them), read
:data:`ARTICULATION_LEAD_FRAMES` ahead of the frame (:func:`eval.synth.corpus.articulation_tracks`): the lips
reach a shape slightly before the sound it makes is heard.
"""

from __future__ import annotations

import numpy as np

#: 68-point indices: outer lip 48-59, inner lip 60-67, jaw 0-16, nose base 31-35.
OUTER, INNER = np.arange(48, 60), np.arange(60, 68)
UPPER_OUTER, LOWER_OUTER = np.array([49, 50, 51, 52, 53]), np.array([55, 56, 57, 58, 59])
UPPER_INNER, LOWER_INNER = np.array([61, 62, 63]), np.array([65, 66, 67])
#: Jaw points that follow the opening, and how much (chin = 8 moves most).
JAW = np.arange(4, 13)
JAW_WEIGHT = np.array([0.15, 0.4, 0.7, 0.9, 1.0, 0.9, 0.7, 0.4, 0.15])
NOSE = np.arange(31, 36)
#: Anchors: the jaw line 1..15 pushed out from the mouth centre by this factor (fixed).
ANCHOR_SCALE = 1.35
#: Largest opening (lower inner lip drop) in mouth widths.
OPEN_MAX = 0.36
#: RGB of the inner mouth: cavity (dark, slightly red), teeth.
CAVITY_RGB = np.array([52.0, 18.0, 22.0], dtype=np.float32)
TEETH_RGB = np.array([214.0, 204.0, 188.0], dtype=np.float32)
#: Video frames (40 ms each at 25 fps) by which the mouth shape leads the sound it makes
#: (generator 2.1). In running speech the lips lead the acoustics by a few tens of ms:
#: Schwartz & Savariaux (PLoS Comput Biol 2014, doi:10.1371/journal.pcbi.1003743) measure
#: 20 ms audio lead .. 70 ms audio lag in chained syllables and 40 ms audio lead .. 200 ms
#: audio lag for general material; Chandrasekaran et al. (PLoS Comput Biol 2009) 100-300 ms
#: at utterance onsets. One frame (40 ms) sits inside the running-speech range. Generator
#: 2.0 drew the shape of the frame's own 40 ms of audio (lead 0).
ARTICULATION_LEAD_FRAMES = 1


def spread_track(audio: np.ndarray, n_frames: int, samples_per_frame: int = 640,
                 sample_rate: int = 16000) -> np.ndarray:
    """Lip spread ``(n_frames,)`` in [-1, 1] (negative: rounded) from each frame's spectrum.

    The share of a frame's energy above 2 kHz, standardised over the clip's voiced frames
    (within 30 dB of its loudest), clipped to ±1, zero on quiet frames, then smoothed
    with a (0.25, 0.5, 0.25) kernel.
    """
    need = n_frames * samples_per_frame
    a = np.zeros(need, dtype=np.float64)
    a[: min(need, audio.shape[0])] = audio[:need]
    frames = a.reshape(n_frames, samples_per_frame) * np.hanning(samples_per_frame)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(samples_per_frame, 1.0 / sample_rate)
    total = power[:, freqs >= 80].sum(axis=1) + 1e-12
    high = power[:, freqs >= 2000].sum(axis=1) / total
    db = 10.0 * np.log10(total)
    voiced = db > db.max() - 30.0
    out = np.zeros(n_frames)
    if voiced.sum() >= 2:
        mu, sd = high[voiced].mean(), high[voiced].std() + 1e-6
        out[voiced] = np.clip((high[voiced] - mu) / (1.5 * sd), -1.0, 1.0)
    padded = np.pad(out, 1, mode="edge")
    return np.clip(0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:], -1.0, 1.0)


def portrait_landmarks68(image: np.ndarray, detector) -> np.ndarray:
    """dlib's 68 landmarks ``(68, 2)`` of the single face in an aligned portrait (RGB ``uint8``)."""
    from eval.metrics.nets.face_landmarks import dlib_box_from_yunet, landmarks68
    from ttsf.weights.store import locate

    found = detector.detect(image)
    if found.shape[0] != 1:
        raise ValueError(f"expected one face in the portrait, YuNet found {found.shape[0]}")
    x, y, w, h = (float(v) for v in found[0, :4])
    box = dlib_box_from_yunet(np.array([[x, y, x + w, y + h]]))
    return landmarks68(image[None], box, str(locate("dlib_lm68")))[0]


class MouthRig:
    """Warps one portrait's lips and jaw; ``landmarks``: ``(68, 2)`` x, y pixels of ``image``."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray):
        import cv2
        from scipy.spatial import Delaunay

        self.image = np.ascontiguousarray(image)
        lm = np.asarray(landmarks, dtype=np.float64)
        self.landmarks = lm
        self.centre = lm[OUTER].mean(axis=0)
        self.width = float(np.linalg.norm(lm[54] - lm[48]))
        axis = (lm[54] - lm[48]) / max(self.width, 1e-6)
        self.axis = axis  # along the mouth, image left to right
        self.down = np.array([-axis[1], axis[0]])  # perpendicular, towards the chin
        anchors = self.centre + ANCHOR_SCALE * (lm[1:16] - self.centre)
        self.moving = np.concatenate([OUTER, INNER, JAW])
        self.rest = np.concatenate([lm[self.moving], lm[NOSE], anchors])
        # Triangulate the widest-open shape: a closed mouth's inner contours coincide.
        self.triangles = Delaunay(self.shape(1.0, 0.0)).simplices.astype(np.int32)
        size = self.image.shape[0]
        lo = np.floor(self.rest.min(axis=0) - 0.5 * self.width).astype(int)
        hi = np.ceil(self.rest.max(axis=0) + OPEN_MAX * self.width * 2).astype(int)
        self.x0, self.y0 = max(0, lo[0]), max(0, lo[1])
        self.x1, self.y1 = min(size, hi[0]), min(size, hi[1])
        yy, xx = np.mgrid[self.y0:self.y1, self.x0:self.x1].astype(np.float32)
        self.grid_x, self.grid_y = xx, yy
        lips = np.zeros(self.image.shape[:2], np.uint8)
        cv2.fillPoly(lips, [np.round(lm[OUTER]).astype(np.int32)], 1)
        colour = self.image[lips > 0].mean(axis=0) if lips.any() else CAVITY_RGB
        self.cavity_rgb = (0.5 * CAVITY_RGB + 0.25 * np.asarray(colour, np.float32)).astype(np.float32)

    @property
    def amplitude(self) -> float:
        """Lower-lip drop at full opening, in pixels."""
        return OPEN_MAX * self.width

    def shape(self, opening: float, spread: float) -> np.ndarray:
        """Every rig point ``(n, 2)`` for opening in [0, 1] and spread in [-1, 1] (rounded < 0)."""
        lm = self.landmarks
        pts = lm[self.moving].copy()
        c, ax, dn = self.centre, self.axis, self.down
        rel = pts - c
        along, across = rel @ ax, rel @ dn
        n_lip = OUTER.size + INNER.size
        u = np.clip(np.abs(along[:n_lip]) / (0.5 * self.width), 0.0, 1.0)
        bell = 0.5 * (1.0 + np.cos(np.pi * u))  # 1 at the middle of the lip, 0 at the corners
        amp = self.amplitude * float(opening)
        ids = self.moving[:n_lip]
        drop = np.zeros(n_lip)
        drop[np.isin(ids, LOWER_INNER)] = 1.0
        drop[np.isin(ids, LOWER_OUTER)] = 0.9
        drop[np.isin(ids, UPPER_INNER)] = -0.22
        drop[np.isin(ids, UPPER_OUTER)] = -0.12
        shift_down = amp * drop * (0.25 + 0.75 * bell)
        s = float(spread)
        widen = 1.0 + 0.10 * max(s, 0.0) - 0.16 * max(-s, 0.0) - 0.06 * float(opening)
        # rounding pushes the lips out (thicker, a little open); spreading thins them
        thick = 1.0 - 0.12 * max(s, 0.0) + 0.25 * max(-s, 0.0)
        new_along = along[:n_lip] * widen
        new_across = across[:n_lip] * thick + shift_down
        pts[:n_lip] = c + np.outer(new_along, ax) + np.outer(new_across, dn)
        pts[n_lip:] += np.outer(0.8 * amp * JAW_WEIGHT, dn)
        return np.concatenate([pts, self.rest[len(self.moving):]])

    def warp(self, opening: float, spread: float) -> np.ndarray:
        """The portrait ``(size, size, 3)`` ``uint8`` with its mouth moved to ``(opening, spread)``."""
        import cv2

        if opening <= 1e-3 and abs(spread) <= 1e-3:
            return self.image
        dst = self.shape(opening, spread)
        src = self.rest
        index = np.full(self.grid_x.shape, -1, np.int32)
        origin = np.array([self.x0, self.y0], dtype=np.float64)
        mats = np.zeros((len(self.triangles), 2, 3), np.float32)
        for k, tri in enumerate(self.triangles):
            d = dst[tri]
            area = (d[1, 0] - d[0, 0]) * (d[2, 1] - d[0, 1]) - (d[2, 0] - d[0, 0]) * (d[1, 1] - d[0, 1])
            if abs(area) < 1e-6:
                continue
            mats[k] = cv2.getAffineTransform(d.astype(np.float32), src[tri].astype(np.float32))
            poly = np.round((d - origin) * 16).astype(np.int32)
            cv2.fillConvexPoly(index, poly, int(k), lineType=cv2.LINE_8, shift=4)
        inside = index >= 0
        m = mats[np.maximum(index, 0)]
        gx, gy = self.grid_x, self.grid_y
        map_x = np.where(inside, m[..., 0, 0] * gx + m[..., 0, 1] * gy + m[..., 0, 2], gx).astype(np.float32)
        map_y = np.where(inside, m[..., 1, 0] * gx + m[..., 1, 1] * gy + m[..., 1, 2], gy).astype(np.float32)
        out = self.image.copy()
        patch = cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[self.y0:self.y1, self.x0:self.x1] = self._inner_mouth(patch, dst, float(opening))
        return out

    def _inner_mouth(self, patch: np.ndarray, dst: np.ndarray, opening: float) -> np.ndarray:
        """Paint teeth and cavity between the moved inner lip contours of ``patch`` (the rig's box)."""
        import cv2

        inner = dst[: OUTER.size + INNER.size][OUTER.size:]  # points 60..67 in order
        origin = np.array([self.x0, self.y0], dtype=np.float64)
        mask = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round((inner - origin) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
        alpha = mask.astype(np.float32) / 255.0 * min(1.0, 3.0 * opening)
        if not alpha.any():
            return patch
        rel_x = (self.grid_x - self.centre[0]) * self.axis[0] + (self.grid_y - self.centre[1]) * self.axis[1]
        rel_y = -(self.grid_x - self.centre[0]) * self.axis[1] + (self.grid_y - self.centre[1]) * self.axis[0]
        up_pts, low_pts = inner[[0, 1, 2, 3, 4]], inner[[0, 7, 6, 5, 4]]

        def contour(points):
            r = points - self.centre
            a, b = r @ self.axis, r @ self.down
            order = np.argsort(a)
            return np.interp(rel_x, a[order], b[order])

        upper, lower = contour(up_pts), contour(low_pts)
        below_upper = rel_y - upper
        above_lower = lower - rel_y
        w = self.width
        upper_teeth = np.clip((0.085 * w - below_upper) / (0.02 * w), 0.0, 1.0)
        lower_teeth = np.clip((0.04 * w - above_lower) / (0.02 * w), 0.0, 1.0) * np.clip(opening * 1.5 - 0.5, 0.0, 1.0)
        teeth = np.maximum(upper_teeth, 0.7 * lower_teeth)
        shade = np.clip(1.0 - 0.5 * np.abs(rel_x) / (0.5 * w), 0.4, 1.0)[..., None]  # darker towards the corners
        colour = (teeth[..., None] * TEETH_RGB + (1.0 - teeth[..., None]) * self.cavity_rgb) * shade
        a = alpha[..., None]
        return np.clip(patch * (1.0 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)
