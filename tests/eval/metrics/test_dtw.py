"""The fast DTW / WORLD / SPTK paths give the reference libraries' numbers bit for bit."""

import numpy as np
import pytest

from eval.metrics.functional.dtw import fastdtw_path


def _reference_path(x, y):
    from fastdtw import fastdtw
    from scipy.spatial.distance import euclidean

    return np.array(fastdtw(x, y, dist=euclidean)[1], dtype=np.int64).reshape(-1, 2)


@pytest.mark.parametrize("seed", range(8))
def test_fastdtw_path_is_fastdtws_path(seed):
    rng = np.random.default_rng(seed)
    for _ in range(12):
        len_x, len_y = rng.integers(1, 90, 2)
        dims = int(rng.integers(1, 14))
        x, y = rng.standard_normal((len_x, dims)), rng.standard_normal((len_y, dims))
        if rng.random() < 0.5:  # coarse values: many equal costs, so the tie order matters
            x, y = np.round(x, 0), np.round(y, 0)
        np.testing.assert_array_equal(fastdtw_path(x, y), _reference_path(x, y))


def test_fastdtw_path_rejects_nan_like_scipy():
    x = np.ones((5, 3))
    with pytest.raises(ValueError, match="infs or NaNs"):
        fastdtw_path(x, np.full((5, 3), np.nan))


def test_world_and_sptk_shortcuts_are_bit_equal_on_speech(speech):
    """mcep without D4C, SPTK mcep without its decorators, and the DTW path on real mel-cepstra."""
    import pysptk
    import pyworld

    from eval.metrics.functional import f0 as f0_math
    from eval.metrics.functional.mcd import ALPHA, FFT_SIZE, FRAME_PERIOD_MS, ORDER, SAMPLE_RATE, mcep, to_pymcd_rate
    from ttsf.media import read_audio_native, resample

    cepstra = []
    for name in ("slt_a", "rms_a"):
        wav, rate = read_audio_native(speech[name])
        x = to_pymcd_rate(wav, rate).astype(np.float64)
        _, sp, _ = pyworld.wav2world(x, fs=SAMPLE_RATE, frame_period=FRAME_PERIOD_MS, fft_size=FFT_SIZE)
        reference = pysptk.sptk.mcep(sp, order=ORDER, alpha=ALPHA, maxiter=0, etype=1, eps=1.0e-8, min_det=0.0,
                                     itype=3)
        np.testing.assert_array_equal(mcep(x), reference)
        cepstra.append(reference)
        # F0 RMSE's Harvest envelope at 16 kHz
        x16 = np.asarray(resample(wav, rate, 16000), dtype=np.float64)
        f0, t = pyworld.harvest(x16, 16000, f0_floor=f0_math.F0_FLOOR, f0_ceil=f0_math.F0_CEIL,
                                frame_period=f0_math.FRAME_PERIOD_MS)
        sp16 = pyworld.cheaptrick(x16, f0, t, 16000)
        alpha = float(pysptk.util.mcepalpha(16000))
        expected = pysptk.sptk.mcep(sp16, order=f0_math.ORDER, alpha=alpha, maxiter=0, etype=1, eps=1.0e-8,
                                    min_det=0.0, itype=3)
        ours_f0, ours_mc = f0_math.harvest(x16, 16000)
        np.testing.assert_array_equal(ours_f0, f0)
        np.testing.assert_array_equal(ours_mc, expected)
    ref, syn = cepstra[0][:, 1:], cepstra[1][:, 1:]
    np.testing.assert_array_equal(fastdtw_path(ref, syn), _reference_path(ref, syn))
