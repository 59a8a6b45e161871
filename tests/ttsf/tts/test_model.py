"""TTS model: the face-branch contract (shapes, features), masks, conditioning, determinism, checkpoints."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from ttsf.tts.config import TTSConfig, load_config
from ttsf.tts.model import TTS


def _batch(seed=0, b=3, lt=(11, 7, 5), lm=(40, 29, 18)):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, 100, (b, max(lt)), generator=g)
    mel = torch.randn(b, 80, max(lm), generator=g) - 5
    for i in range(b):
        tokens[i, lt[i]:] = 0
        mel[i, :, lm[i]:] = 0
    return tokens, torch.tensor(lt), mel, torch.tensor(lm)


@pytest.fixture
def model(tiny):
    torch.manual_seed(0)
    return TTS(TTSConfig(**tiny, cond_mode="face", cond_dim=12, cond_emb_dim=8))


def test_forward_contract_shapes_and_losses(model):
    tokens, lt, mel, lm = _batch()
    cond = torch.randn(3, 12)
    out = model(tokens, lt, mel, lm, cond)
    for k in ("loss_prior", "loss_duration", "loss_cfm"):
        assert out[k].dim() == 0 and torch.isfinite(out[k]) and out[k] > 0
    torch.testing.assert_close(out["loss"], out["loss_prior"] + out["loss_duration"] + out["loss_cfm"])
    f = out["features"]
    d_emb, d_enc = model.d_emb, model.d_enc
    assert d_enc == model.cfg.enc_channels + 8
    assert f["e_t"].shape == (3, d_emb, 11) and f["f_t"].shape == (3, d_enc, 11)
    assert f["f_tilde"].shape == (3, d_enc, 40) and f["energy"].shape == (3, 1, 40)
    torch.testing.assert_close(f["energy"], f["f_tilde"].mean(1, keepdim=True))
    # MAS durations: integer, cover exactly the mel length, zero on padding tokens
    assert torch.equal(f["durations"].sum(1), lm.float()) and f["durations"][1, 7:].sum() == 0
    assert (f["durations"][0] >= 1).all()
    assert f["f_tilde"][2, :, 18:].abs().sum() == 0 and f["e_t"][2, :, 5:].abs().sum() == 0
    out["loss"].backward()  # gradients reach the encoder through the prior and the decoder
    assert model.encoder.emb.weight.grad.abs().sum() > 0 and model.cond_proj.weight.grad.abs().sum() > 0


def test_duration_predictor_sees_detached_encoder(model):
    tokens, lt, mel, lm = _batch()
    out = model(tokens, lt, mel, lm, torch.randn(3, 12))
    out["loss_duration"].backward()
    assert model.duration.proj.weight.grad.abs().sum() > 0
    assert model.encoder.emb.weight.grad is None or model.encoder.emb.weight.grad.abs().sum() == 0


def test_synthesise_contract_determinism_and_batch_independence(model):
    model.eval()
    tokens, lt, _, _ = _batch()
    cond = torch.randn(3, 12)
    a = model.synthesise(tokens, lt, cond, n_steps=3, generator=torch.Generator().manual_seed(5))
    b = model.synthesise(tokens, lt, cond, n_steps=3, generator=torch.Generator().manual_seed(5))
    c = model.synthesise(tokens, lt, cond, n_steps=3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a["mel"], b["mel"]) and not torch.equal(a["mel"], c["mel"])
    lm = a["mel_lengths"]
    f = a["features"]
    assert torch.equal(f["durations"].sum(1).long(), lm) and (f["durations"][0, :11] >= 1).all()
    assert a["mel"].shape == (3, 80, int(lm.max())) and f["f_tilde"].shape[-1] == int(lm.max())
    assert a["mel"][2, :, int(lm[2]):].abs().sum() == 0
    # item 2 alone, zero temperature (no noise): same mel as inside the padded batch
    full = model.synthesise(tokens, lt, cond, n_steps=3, temperature=0.0)
    alone = model.synthesise(tokens[2:, :5], lt[2:], cond[2:], n_steps=3, temperature=0.0)
    torch.testing.assert_close(full["mel"][2, :, : int(lm[2])], alone["mel"][0], atol=1e-4, rtol=1e-4)
    # length_scale stretches durations
    slow = model.synthesise(tokens, lt, cond, n_steps=1, length_scale=2.0)
    assert (slow["mel_lengths"] >= 2 * lm - lt).all()


def test_conditioning_changes_output_and_is_validated(model):
    model.eval()
    tokens, lt, _, _ = _batch()
    a = model.synthesise(tokens, lt, torch.zeros(3, 12), n_steps=2, temperature=0.0)["mel"]
    b = model.synthesise(tokens, lt, torch.ones(3, 12), n_steps=2, temperature=0.0)["mel"]
    assert a.shape != b.shape or not torch.allclose(a, b)  # the condition reaches durations and the decoder
    tokens1 = tokens[:1]
    enc = [model.synthesise(tokens1, lt[:1], c, n_steps=1, temperature=0.0)["features"]["f_t"]
           for c in (torch.zeros(1, 12), torch.ones(1, 12))]
    assert not torch.allclose(enc[0], enc[1])  # ... and the encoder
    with pytest.raises(ValueError, match="needs cond"):
        model.synthesise(tokens, lt, None)
    with pytest.raises(ValueError, match=r"\(3, 12\)"):
        model.synthesise(tokens, lt, torch.zeros(3, 5))


def test_config_validation_and_yaml(tmp_path, tiny):
    with pytest.raises(ValueError, match="cond_dim"):
        TTSConfig(cond_mode="face")
    with pytest.raises(ValueError, match="cond_mode"):
        TTSConfig(cond_mode="voice", cond_dim=3)
    with pytest.raises(ValueError, match="n_speakers"):
        TTSConfig(cond_mode="speaker_embedding", cond_dim=8)
    p = tmp_path / "c.yaml"
    p.write_text("model:\n  enc_layers: 2\n  cond_mode: face\n  cond_dim: 512\n  dec_channels: [64, 64]\n")
    cfg = load_config(p)
    assert cfg.enc_layers == 2 and cfg.cond_dim == 512 and cfg.dec_channels == (64, 64)
    p.write_text("model:\n  enc_layerz: 2\n")
    with pytest.raises(ValueError, match="enc_layerz"):
        load_config(p)
    assert TTSConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.enc_layers = 3  # type: ignore[misc]


def test_paper_size_defaults():
    cfg = TTSConfig()
    assert (cfg.enc_channels, cfg.enc_filter, cfg.enc_heads, cfg.enc_layers, cfg.enc_kernel) == (192, 768, 2, 6, 3)
    assert ((cfg.dp_filter, cfg.dec_channels, cfg.dec_blocks, cfg.dec_mid_blocks, cfg.dec_heads)
            == (256, (256, 256), 1, 2, 2))
    assert cfg.sigma_min == 1e-4 and cfg.n_steps == 10 and cfg.dec_act == "snakebeta"
    assert cfg.mel.hop_length == 160 and cfg.mel.sample_rate == 16000 and cfg.mel.n_mels == 80


def test_checkpoint_round_trip_and_vocoder_mismatch(tmp_path, tiny):
    from ttsf.tts.checkpoint import load_model, save_checkpoint
    from ttsf.vocoder import VocoderError, check_mel_config
    from ttsf.vocoder.griffin_lim import GriffinLim

    torch.manual_seed(0)
    cfg = TTSConfig(**tiny, cond_mode="speaker_embedding", cond_dim=4, n_speakers=2, mel_mean=-5.0, mel_std=2.0)
    m = TTS(cfg).eval()
    save_checkpoint(tmp_path / "m.pt", m, cfg, ["a", "b"], step=7)
    m2, blob = load_model(tmp_path / "m.pt")
    assert blob["speakers"] == ["a", "b"] and blob["step"] == 7 and m2.cfg == cfg
    tokens, lt, _, _ = _batch()
    cond = m.speaker_cond(torch.tensor([0, 1, 0]))
    x = m.synthesise(tokens, lt, cond, n_steps=2, generator=torch.Generator().manual_seed(1))["mel"]
    y = m2.synthesise(tokens, lt, m2.speaker_cond(torch.tensor([0, 1, 0])), n_steps=2,
                      generator=torch.Generator().manual_seed(1))["mel"]
    assert torch.equal(x, y)
    check_mel_config(cfg.mel, GriffinLim(cfg.mel))
    with pytest.raises(VocoderError, match="win_length"):
        check_mel_config(cfg.mel, GriffinLim(dataclasses.replace(cfg.mel, win_length=cfg.mel.win_length // 2)))
    with pytest.raises(FileNotFoundError, match="tts_synth"):
        load_model(tmp_path / "missing.pt")
