"""Real-face validity of the offline LSE backends on the 14 committed VoxCeleb2 clips
(``tests/data/real_av``, validation only: nothing is trained or tuned on them).

Per clip and backend, one session-scoped pass computes the offset and LSE-C with the clip's
own audio, with it delayed / advanced by 5 and 10 frames (:func:`eval.synth.shift.shift_audio`),
and with the next clip's audio. Each clip's figures are printed (``pytest -s`` or on failure).

Issue 12's bar (in sync |offset| <= 2 on >= 13/14; each shift recovered within +-1 frame on
>= 13/14; own audio beats another clip's on 14/14) is NOT fully met by any offline backend:
it is kept as a strict xfail, so meeting it turns the test red until the mark is removed. A
shift counts as recovered when the shifted copy's offset moved by the shift (+-1) from the
clip's own in-sync offset: the bar allows a published clip a true offset of up to 2 frames,
and a clip at +2 whose 5-frame-delayed copy reads -3 has its shift found exactly (the
absolute count, offset = -shift +-1, is printed too). The passing tests are regression
floors one below the measured figures (checkpoints/SYNCNET.md), far above chance (an offset
search over 31 lags that ignored the video would put about 1 in 6 clips within +-2 of any
target).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REAL = Path(__file__).resolve().parents[2] / "data" / "real_av"
SHIFTS = (5, -5, 10, -10)
VSHIFT = 15


def _clips():
    return sorted(REAL.glob("*.mp4"))


def _curve_makers():
    """``{base backend: curve(sample, audio)}``: the metric's own per-lag curves of the item with
    the given 16 kHz speech (so the test scores exactly what ``LSE.score`` would)."""
    import torch

    from eval.metrics import visual
    from eval.metrics.lse import LSE

    torch.set_num_threads(1)
    metric = LSE("fused_offline", vshift=VSHIFT)

    def frames(sample):
        return len(visual.frames(sample, "gen_video"))

    return {"syncnet_offline": lambda sample, wav: metric._syncnet_curve(sample, frames(sample), wav)[0],
            "landmark_cca": lambda sample, wav: metric._landmark_curve(sample, frames(sample), wav)[0]}


def _from_curves(backend, curves):
    """The backend's result from the base curves, through the metric's own functions."""
    from eval.metrics.functional.lse import lse_from_curve
    from eval.metrics.functional.lse_fusion import fused_lse

    if backend == "fused_offline":
        return fused_lse([curves["syncnet_offline"], curves["landmark_cca"]], VSHIFT)
    return lse_from_curve(curves[backend], VSHIFT)


BACKENDS = ("syncnet_offline", "landmark_cca", "fused_offline")


@pytest.fixture(scope="session")
def real_samples():
    from eval.metrics import visual
    from eval.metrics.sample import Sample

    samples = [Sample(p.stem, gen_video=p) for p in _clips()]
    assert len(samples) == 14, f"expected the 14 committed clips in {REAL}"
    return samples, [visual.video(s).audio for s in samples]


@pytest.fixture(scope="session")
def real_results(real_samples):
    """backend -> per clip dict: ``offset`` / ``lse_c`` at shift 0 and at each of SHIFTS
    (audio shifted by +k frames = delayed), ``other_lse_c`` (next clip's audio). The two base
    curves are computed once per clip and audio; ``fused_offline`` is derived from them."""
    from eval.synth.shift import shift_audio

    samples, audios = real_samples
    makers = _curve_makers()
    results = {name: [] for name in BACKENDS}
    for index, (sample, audio) in enumerate(zip(samples, audios)):
        cases = {shift: shift_audio(audio, shift) for shift in (0, *SHIFTS)}
        cases["other"] = np.resize(audios[(index + 1) % len(audios)], len(audio))  # repeat/trim to length
        curves = {case: {name: make(sample, wav) for name, make in makers.items()} for case, wav in cases.items()}
        for name in BACKENDS:
            out = {case: _from_curves(name, curves[case]) for case in cases}
            row = {"id": sample.id, "other_lse_c": out["other"]["lse_c"],
                   **{shift: (out[shift]["offset"], out[shift]["lse_c"]) for shift in (0, *SHIFTS)}}
            results[name].append(row)
            print(f"[real-face lse] {name:15s} {sample.id:16s} offset {row[0][0]:+3d} lse_c {row[0][1]:.3f} | "
                  + " ".join(f"shift {s:+d}: offset {row[s][0]:+3d}" for s in SHIFTS)
                  + f" | other-audio lse_c {row['other_lse_c']:.3f}")
    return results


def _counts(rows):
    in_sync = sum(abs(r[0][0]) <= 2 for r in rows)
    # audio delayed by k frames -> offset -k (syncnet_python's sign); "relative" = against the
    # clip's own in-sync offset (published clips may carry a true offset of a frame or two).
    absolute = {s: sum(abs(r[s][0] + s) <= 1 for r in rows) for s in SHIFTS}
    relative = {s: sum(abs(r[s][0] - r[0][0] + s) <= 1 for r in rows) for s in SHIFTS}
    own_wins = sum(r[0][1] > r["other_lse_c"] for r in rows)
    return in_sync, absolute, relative, own_wins


# Measured on this repository's clips (checkpoints/SYNCNET.md); floors = measured - 1.
FLOORS = {
    #                  in sync, relative shift recovery (each of the four), own > other
    "syncnet_offline": (12, 10, 9),
    "landmark_cca": (9, 7, 11),
    "fused_offline": (12, 11, 10),
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_real_faces_regression_floor(real_results, backend):
    rows = real_results[backend]
    in_sync, absolute, relative, own_wins = _counts(rows)
    summary = (f"{backend}: in sync |offset|<=2 {in_sync}/14; shift recovered +-1 (relative) {relative}, "
               f"(absolute) {absolute}; own audio > other clip's {own_wins}/14; offsets "
               f"{[r[0][0] for r in rows]}")
    print(summary)
    sync_floor, shift_floor, own_floor = FLOORS[backend]
    assert in_sync >= sync_floor, summary
    assert min(relative.values()) >= shift_floor, summary
    assert own_wins >= own_floor, summary


@pytest.mark.xfail(strict=True, reason="issue 12's real-face bar is not fully met by any offline LSE backend yet "
                                       "(checkpoints/SYNCNET.md has the figures)")
@pytest.mark.parametrize("backend", BACKENDS)
def test_real_faces_issue_12_bar(real_results, backend):
    in_sync, _, relative, own_wins = _counts(real_results[backend])
    assert in_sync >= 13 and min(relative.values()) >= 13 and own_wins == 14
