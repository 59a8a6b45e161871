"""TTSF registered as evaluated systems: generation on the synthetic corpus, ablation guards."""

import math
from pathlib import Path

import pytest
import torch
import yaml

from eval.systems.base import Context
from eval.systems.ttsf_system import TTSFMapperEt, TTSFSpeech, TTSFSpeechWithMotion, TTSFSystem, item_seed
from ttsf.data.manifest import load_manifest

CI_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "joint" / "synth_ci.yaml"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from ttsf.model import TTSF, TTSFConfig

    cfg = yaml.safe_load(CI_CONFIG.read_text())["model"]
    cfg["tts"].update(mel_mean=-6.0, mel_std=3.0)
    torch.manual_seed(0)
    return TTSF(TTSFConfig.from_dict(cfg)).save(tmp_path_factory.mktemp("ck") / "ttsf.pt", {"seed": 0})


def test_generate_and_guards(checkpoint, tiny_corpus, tmp_path):
    from ttsf.media import probe

    torch.set_num_threads(1)
    ok, why = TTSFSystem(checkpoint=str(tmp_path / "missing.pt")).readiness()
    assert not ok and "python -m ttsf.train joint" in why
    system = TTSFSystem(checkpoint=str(checkpoint), steps=2)
    assert system.readiness()[0]
    assert len(system.config()["checkpoint_sha256"]) == 64
    item = sorted(load_manifest(tiny_corpus / "synth_test.jsonl"), key=lambda it: it.id)[0]
    out = system.generate(item, Context(tiny_corpus, tmp_path / "out", seed=0))
    p = probe(out.video)
    assert p["video"]["fps"] == 25 and p["audio"]["sample_rate"] == 16000
    assert p["video"]["frames"] == math.ceil(probe(out.audio)["audio"]["seconds"] * 25 - 1e-9)
    speech = TTSFSpeech(checkpoint=str(checkpoint), steps=2).generate(item, Context(tiny_corpus, tmp_path / "s", 0))
    assert speech.video is None and speech.audio.is_file()
    ok, why = TTSFSpeechWithMotion(checkpoint=str(checkpoint)).readiness()
    assert not ok and "tts_condition" in why
    ok, why = TTSFMapperEt(checkpoint=str(checkpoint)).readiness()
    assert not ok and "mapper_inputs" in why
    assert item_seed(0, "a/1") == item_seed(0, "a/1") != item_seed(1, "a/1")
