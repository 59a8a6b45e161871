"""``python -m ttsf.synthesize --threads``: one intra-op thread by default, same output as with two."""

from pathlib import Path

import numpy as np
import pytest
import torch

from ttsf.synthesize import build_parser, main

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "checkpoints" / "ttsf_synth.pt"


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_cli_defaults_to_one_thread_and_sets_it(tmp_path, tiny_corpus):
    args = build_parser().parse_args(["--text", "x", "--image", "a.png", "--checkpoint", "c.pt", "--out", "o.mp4"])
    assert args.threads == 1
    torch.set_num_threads(2)
    portrait = tiny_corpus / "faces" / "id00.png"
    assert main(["--text", "Hi.", "--image", str(portrait), "--checkpoint", str(CHECKPOINT),
                 "--out", str(tmp_path / "o.mp4"), "--steps", "2"]) == 0
    assert torch.get_num_threads() == 1


def test_one_thread_gives_the_two_thread_output(tiny_corpus):
    """Fixed seed: the 1-thread synthesis equals the 2-thread one (the old default) to float rounding."""
    from ttsf.synthesize import load_model

    model = load_model(CHECKPOINT)
    portrait = str(tiny_corpus / "faces" / "id00.png")
    outs = []
    for threads in (2, 1):
        torch.set_num_threads(threads)
        outs.append(model.synthesize("Hi there.", portrait, seed=5, steps=2))
    np.testing.assert_allclose(outs[0].wav, outs[1].wav, atol=1e-4)
    assert np.abs(outs[0].frames.astype(int) - outs[1].frames.astype(int)).max() <= 1
