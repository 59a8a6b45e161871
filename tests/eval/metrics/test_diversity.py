import json

import numpy as np
import pytest
import torch

from eval.metrics.diversity import Diversity
from eval.metrics.functional.pose import bins_to_degrees, pose_diversity
from eval.metrics.sample import Sample


def test_bins_to_degrees_and_std_definition():
    logits = torch.full((1, 66), -1e4)
    logits[0, 33] = 0.0  # all mass on bin 33 -> 33 * 3 - 99 = 0 deg
    assert float(bins_to_degrees(logits)[0]) == pytest.approx(0.0, abs=1e-4)
    logits = torch.zeros(1, 66)  # uniform -> mean index 32.5 -> -1.5 deg
    assert float(bins_to_degrees(logits)[0]) == pytest.approx(-1.5, abs=1e-4)
    yaw_logits = torch.full((1, 120), -1e4)
    yaw_logits[0, 70] = 0.0
    assert float(bins_to_degrees(yaw_logits, 3.0, -180.0)[0]) == pytest.approx(30.0, abs=1e-4)
    angles = np.array([[0.0, 0.0, 0.0], [2.0, 4.0, 6.0]])
    assert pose_diversity(angles) == pytest.approx((1.0 + 2.0 + 3.0) / 3)


def test_hopenet_matches_torchvision_resnet50_with_three_heads(tmp_path):
    import torchvision

    from eval.metrics.nets.hopenet import Hopenet, load_hopenet

    torch.manual_seed(0)
    reference = torchvision.models.resnet50(weights=None)
    heads = {name: torch.nn.Linear(2048, 66) for name in ("fc_yaw", "fc_pitch", "fc_roll")}
    state = {k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}
    for name, head in heads.items():
        state.update({f"{name}.{k}": v for k, v in head.state_dict().items()})
    state.update({f"fc_finetune.{k}": v for k, v in torch.nn.Linear(2051, 3).state_dict().items()})
    path = tmp_path / "hopenet_random.pkl"
    torch.save({f"module.{k}": v for k, v in state.items()}, path)  # DataParallel-style names
    ours = load_hopenet(path)
    assert isinstance(ours, Hopenet)
    reference.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        trunk = torch.nn.Sequential(*list(reference.children())[:-1])
        features = trunk(x).flatten(1)
        expected = [heads[n](features) for n in ("fc_yaw", "fc_pitch", "fc_roll")]
        got = ours(x)
    for e, g in zip(expected, got):
        assert torch.allclose(e, g, atol=1e-4, rtol=1e-4)


@pytest.fixture(scope="module")
def whenet():
    return Diversity("whenet", frame_stride=3)


def test_whenet_port_responds_to_roll_and_mirror(whenet):
    import importlib.util
    from pathlib import Path

    import cv2

    folder = Path(importlib.util.find_spec("insightface").submodule_search_locations[0])
    face = cv2.imread(str(folder / "data" / "images" / "Tom_Hanks_54745.png"))[:, :, ::-1]
    face = cv2.resize(np.ascontiguousarray(face), (224, 224))
    rotate = [cv2.warpAffine(face, cv2.getRotationMatrix2D((112, 112), a, 1.0), (224, 224),
                             borderMode=cv2.BORDER_REPLICATE) for a in (-20, 20)]
    angles = whenet.angles(np.stack([face, face[:, ::-1], *rotate]))
    yaw, pitch, roll = angles.T
    assert yaw[1] == pytest.approx(-yaw[0], abs=3.0) and roll[1] == pytest.approx(-roll[0], abs=3.0)
    assert pitch[1] == pytest.approx(pitch[0], abs=3.0)
    assert roll[2] - roll[3] > 25.0  # image rotated -20 vs +20 degrees


def test_static_video_has_near_zero_diversity(tiny_corpus, tmp_path, whenet):
    from eval.metrics import visual
    from ttsf.media import write_video

    torch.set_num_threads(1)
    first = visual.frames(Sample("s", gen_video=tiny_corpus / "main" / "id00" / "00000.mp4"))[0]
    clip = write_video(tmp_path / "static.mp4", np.repeat(first[None], 30, 0), fps=25)
    out = whenet.update(Sample("static", gen_video=clip))
    assert out["diversity"] < 0.3 and out["frames_scored"] == 10


def test_diversity_rank_correlates_with_ground_truth_pose(tiny_corpus, whenet):
    from scipy.stats import spearmanr

    torch.set_num_threads(1)
    truth, estimate = [], []
    for meta in sorted((tiny_corpus / "main").glob("*/*.json")):
        gt = json.loads(meta.read_text())
        truth.append(pose_diversity(np.array([gt["yaw"], gt["pitch"], gt["roll"]]).T))
        item_id = f"{meta.parent.name}/{meta.stem}"  # ids are unique per corpus (a repeat is refused)
        estimate.append(whenet.update(Sample(item_id, gen_video=meta.with_suffix(".mp4")))["diversity"])
    assert len(truth) >= 12
    rho = spearmanr(truth, estimate).statistic
    assert rho >= 0.8, (rho, truth, estimate)
    assert whenet.compute()["n_items"] >= len(truth)


def test_merge_and_backend_guard():
    a, b = Diversity("whenet"), Diversity("whenet")
    a._items, b._items = {"x": {"diversity": 1.0}, "y": {"diversity": 3.0}}, {"z": {"diversity": 5.0}}
    a.merge(b.state())
    assert a.compute()["diversity"] == pytest.approx(3.0)
    with pytest.raises(ValueError):
        Diversity("hopenet").merge(b.state())
