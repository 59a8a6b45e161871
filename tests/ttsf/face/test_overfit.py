"""A short overfit of the face stage on a few synthetic clips: reconstruction L1 halves."""

from pathlib import Path

import torch

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "face" / "synth_ci.yaml"


def test_face_stage_reconstruction_l1_falls_by_half(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.face import load_face, train

    torch.set_num_threads(1)
    cfg = read_config(CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "run")})
    res = train(cfg, resume=False)
    hist = res["history"]
    assert len(hist) == cfg["train"]["steps"] == 60
    first = sum(h["l1"] for h in hist[:3]) / 3
    last = sum(h["l1"] for h in hist[-3:]) / 3
    assert last <= 0.5 * first, (first, last)
    out = Path(res["out_dir"])
    assert (out / "losses.csv").read_text().splitlines()[0].startswith("step,loss,l1")
    assert (out / "samples" / "step_0000060.png").is_file()
    fcfg, state = load_face(out / "face.pt")
    assert fcfg.size == 32 and "generator.layers.0.conv1.conv.weight" in state
