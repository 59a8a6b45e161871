"""Per-item score keys (eval/run/score.py): a changed weights file must invalidate cached scores."""

from eval.metrics.fid import FID
from eval.run.score import metric_identity


def test_identity_changes_with_the_weights_file_content(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"first")
    before = metric_identity(FID("fd_mobilenetv2", weights=str(weights)))
    weights.write_bytes(b"second")
    after = metric_identity(FID("fd_mobilenetv2", weights=str(weights)))
    assert before["weights"]["explicit"] != after["weights"]["explicit"]
    assert before != after
    weights.unlink()
    assert metric_identity(FID("fd_mobilenetv2", weights=str(weights)))["weights"]["explicit"].startswith("missing:")


def test_identity_records_registry_weight_hashes(monkeypatch):
    import eval.run.plugins

    monkeypatch.setattr(eval.run.plugins, "weights_hashes", lambda backend: {"mobilenet_v2_offline": "abc"})
    assert metric_identity(FID("fd_mobilenetv2"))["weights"] == {"mobilenet_v2_offline": "abc"}
    monkeypatch.setattr(eval.run.plugins, "weights_hashes", lambda backend: {"mobilenet_v2_offline": "def"})
    assert metric_identity(FID("fd_mobilenetv2"))["weights"] == {"mobilenet_v2_offline": "def"}
