import numpy as np
import pytest

from eval.metrics.base import ItemError
from eval.metrics.idsim import IDSim
from eval.metrics.sample import Sample
from ttsf.weights.errors import MissingWeights


@pytest.fixture(scope="module")
def sface():
    return IDSim("sface")


def test_same_identity_scores_higher_than_another(tiny_corpus, sface):
    import torch

    torch.set_num_threads(1)
    videos = {i: tiny_corpus / "main" / i / "00000.mp4" for i in ("id00", "id01", "id03")}
    faces = {i: tiny_corpus / "faces" / f"{i}.png" for i in videos}
    scores = {}
    cache = {i: {} for i in videos}  # one decode/detection per video, shared across references
    for vid in videos:
        for src in videos:
            sample = Sample(f"{vid}-{src}", gen_video=videos[vid], source_image=faces[src], cache=cache[vid])
            scores[vid, src] = sface.update(sample)["idsim"]
    for vid in videos:
        others = [scores[vid, s] for s in videos if s != vid]
        assert scores[vid, vid] > max(others) + 0.2, scores
    assert sface.compute()["n_items"] == 9


def test_frame_to_frame_reference_on_identical_video(tiny_corpus, sface):
    clip = tiny_corpus / "main" / "id02" / "00000.mp4"
    out = IDSim("sface", reference="ref_video").update(Sample("x", gen_video=clip, ref_video=clip))
    assert out["idsim"] > 0.99 and out["no_face_frames"] == 0


def test_source_without_a_face_is_an_item_error(tiny_corpus, sface):
    sample = Sample("n", gen_video=tiny_corpus / "main" / "id00" / "00000.mp4",
                    source_image=np.full((96, 96, 3), 200, np.uint8))
    with pytest.raises(ItemError) as error:
        sface.update(sample)
    assert error.value.code == "no_face"


def test_missing_arcface_weights_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(MissingWeights, match="w600k_r50.onnx"):
        IDSim("arcface").embedder()
