"""A short overfit on the bundled synthetic corpus through the real training entry point."""

from __future__ import annotations

import csv

import torch
import yaml


def test_training_overfits_few_utterances_and_resumes(tiny_corpus, tmp_path, tiny, capsys):
    from ttsf.train.tts import main as train_main
    from ttsf.tts.checkpoint import load_model

    cfg = {
        "model": dict(tiny, cond_mode="speaker_embedding", cond_dim=8, cond_emb_dim=8, dec_channels=[32, 32]),
        "data": {"train_manifest": str(tiny_corpus / "synth_train.jsonl"), "root": str(tiny_corpus), "limit": 2},
        "train": {"seed": 0, "batch_size": 2, "lr": 0.01, "max_steps": 120, "log_every": 1, "ckpt_every": 60,
                  "out_dir": str(tmp_path / "run"), "threads": 1},
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    torch.set_num_threads(1)
    assert train_main(["--config", str(path), "--resume", "no"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "run" / "losses.csv")))
    assert [int(r["step"]) for r in rows] == list(range(1, 121))
    for r in rows:  # every loss column is a finite number and the sum is consistent
        parts = float(r["loss_prior"]) + float(r["loss_duration"]) + float(r["loss_cfm"])
        assert abs(parts - float(r["loss"])) < 1e-4
    first = sum(float(r["loss"]) for r in rows[:3]) / 3
    last = sum(float(r["loss"]) for r in rows[-5:]) / 5
    assert last <= 0.5 * first, (first, last)

    model, blob = load_model(tmp_path / "run" / "last.pt")
    assert blob["step"] == 120 and blob["speakers"] == ["id00", "id01"]  # the first two items' speakers
    assert model.cfg.mel_std > 0 and model.cfg.mel_mean < 0  # statistics computed from the data

    # the statistics command prints what training computed
    capsys.readouterr()
    assert train_main(["--config", str(path), "--mel-stats"]) == 0
    stats = yaml.safe_load(capsys.readouterr().out)
    assert abs(stats["mel_mean"] - model.cfg.mel_mean) < 1e-5 and abs(stats["mel_std"] - model.cfg.mel_std) < 1e-5
    assert stats["utterances"] == 2 and len(stats["manifest_sha256"]) == 64

    # resuming continues from step 120 to 125 instead of starting over
    assert train_main(["--config", str(path), "--max-steps", "125"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "run" / "losses.csv")))
    assert [int(r["step"]) for r in rows][-5:] == [121, 122, 123, 124, 125]
