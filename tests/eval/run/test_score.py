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


def test_a_checkpoint_from_an_older_score_version_is_recomputed_not_merged(tmp_path, monkeypatch):
    """The score version is part of every per-item score key: a state checkpointed before the
    bump (SCORE_VERSION 2: per-item metrics on ItemMetric) is stale, one from this version resumes."""
    from eval.cache import content_key
    from eval.metrics import create
    from eval.metrics.sample import Sample
    from eval.run import score as score_mod

    def key(identity):
        return content_key("score", identity, {"gen_audio": "abc"}, {}, 0)

    def scored_run():
        metric = create("mcd")
        metric.score = lambda item: {"mcd": 4.0}
        return score_mod.MetricRun("mcd", metric, tmp_path / "mcd.ckpt")

    old_identity = {**metric_identity(create("mcd")), "score_version": "1"}
    assert score_mod.SCORE_VERSION == "2" and metric_identity(create("mcd"))["score_version"] == "2"
    current = key(metric_identity(create("mcd")))
    for written, resumed in ((key(old_identity), 0), (current, 1)):
        run = scored_run()
        run.metric.update(Sample("a"))
        run.done = {"a": written}
        run.save()
        again = scored_run()
        again.metric.reset()
        again.restore({"a": current})
        assert again.resumed == resumed and len(again.metric.state()["ids"]) == resumed
