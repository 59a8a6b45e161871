"""End-to-end runs of the harness on a 4-item synthetic corpus with lightweight fake metrics."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from eval.run.cli import main
from eval.run.runner import RunConfig, RunError, run

RMS = "fake_metrics:AudioRMS"
GAP = "fake_metrics:FrameGap"


def _cfg(root: Path, out: Path, **kw) -> RunConfig:
    base = dict(table="1", split="synth_test", data_root=str(root), systems=["gt", "still"], metrics=[RMS, GAP],
                out=str(out), quiet=True)
    base.update(kw)
    return RunConfig(**base)


def _items(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "synth_test.jsonl").read_text().splitlines()]


def test_run_scores_gt_and_still_with_real_values(corpus4, fake_path, tmp_path):
    from fake_metrics import audio_rms, frame_means

    result = run(_cfg(corpus4, tmp_path))
    res = result.results
    items = _items(corpus4)
    # gt is scored on the references themselves: RMS is the mean over the reference wavs.
    expected_gt = np.mean([audio_rms(corpus4 / it["ref_audio"]) for it in items])
    assert res["scores"]["gt"]["fake_rms"]["value"] == pytest.approx(expected_gt, abs=1e-12)
    assert res["scores"]["gt"]["fake_gap"]["value"] == pytest.approx(0.0, abs=1e-12)
    # still: files written under samples/still/<id>.{mp4,wav}; its score is computed from those files.
    still_dir = result.run_dir / "samples" / "still"
    wavs = [still_dir / f"{it['id']}.wav" for it in items]
    mp4s = [still_dir / f"{it['id']}.mp4" for it in items]
    assert all(p.is_file() for p in wavs + mp4s)
    assert res["scores"]["still"]["fake_rms"]["value"] == pytest.approx(np.mean([audio_rms(p) for p in wavs]),
                                                                        abs=1e-12)
    # the still video repeats the source frame: its frame means barely vary, the reference's do not match exactly
    gen = np.concatenate([frame_means(p) for p in mp4s])
    ref = np.concatenate([frame_means(corpus4 / it["ref_video"]) for it in items])
    assert res["scores"]["still"]["fake_gap"]["value"] == pytest.approx(abs(gen.mean() - ref.mean()), rel=1e-9)
    assert res["scores"]["still"]["fake_gap"]["value"] > 0.01
    # speech of still is the reference speech: recorded as such
    assert res["systems"]["still"]["speech_source"] == "gt"
    # item-level metric: std and bootstrap CI around the mean; corpus-level: none
    cell = res["scores"]["gt"]["fake_rms"]
    assert cell["n"] == 4 and cell["n_total"] == 4 and cell["ci95"][0] <= cell["value"] <= cell["ci95"][1]
    assert res["scores"]["gt"]["fake_gap"]["ci95"] is None
    # provenance
    manifest_sha = hashlib.sha256((corpus4 / "synth_test.jsonl").read_bytes()).hexdigest()
    assert res["split"]["sha256"] == manifest_sha and res["seed"] == 0
    prov = res["provenance"]
    assert prov["packages"]["torch"] and prov["device"] == "cpu" and prov["wall_time_s"] > 0 and "git_commit" in prov
    # items.jsonl: one value line per item x metric output for fake_rms
    lines = [json.loads(x) for x in (result.run_dir / "items.jsonl").read_text().splitlines()]
    rms_gt = {d["id"]: d["value"] for d in lines if d["system"] == "gt" and d.get("output") == "fake_rms"}
    assert rms_gt == {it["id"]: pytest.approx(audio_rms(corpus4 / it["ref_audio"]), abs=1e-12) for it in items}
    # rendered tables beside the results
    md = (result.run_dir / "table1.md").read_text()
    assert f"{expected_gt:.3f}" in md and "Still image" in md
    assert (result.run_dir / "table1.tex").is_file() and (result.run_dir / "table1.csv").is_file()


def test_failures_are_recorded_per_item_and_the_run_finishes(corpus4, copy_items, fake_path, tmp_path, monkeypatch):
    root = copy_items(corpus4, tmp_path / "data", 4)
    items = _items(root)
    broken = items[1]
    (root / broken["ref_audio"]).write_bytes(b"RIFF not really a wav")
    monkeypatch.setenv("FAKE_METRIC_FAIL", items[2]["id"])
    result = run(_cfg(root, tmp_path / "runs", metrics=[RMS]))
    res = result.results
    gt = res["scores"]["gt"]["fake_rms"]
    assert (gt["n"], gt["n_total"], gt["n_failed"]) == (2, 4, 2)
    still = res["scores"]["still"]
    assert still["fake_rms"]["n"] == 2 and res["systems"]["still"]["generation"]["failed"] == 1
    lines = [json.loads(x) for x in (result.run_dir / "items.jsonl").read_text().splitlines()]
    errors = {(d["system"], d["id"], d.get("stage", d.get("metric"))): d for d in lines if "error" in d}
    assert "cannot decode audio" in errors[("gt", broken["id"], "fake_rms")]["reason"]
    assert errors[("gt", items[2]["id"], "fake_rms")]["reason"] == f"fake failure for {items[2]['id']}"
    assert "reference audio" in errors[("still", broken["id"], "generate")]["reason"]
    assert errors[("still", broken["id"], "fake_rms")]["reason"].startswith("gen_audio: generation failed")
    md = (result.run_dir / "table1.md").read_text()
    assert "n = 2/4, 2 failed: see items.jsonl" in md
    assert {(f["system"], f["n_failed"]) for f in res["failures"]} == {("gt", 2), ("still", 2)}


def test_all_failed_is_missing_with_reason_not_zero(corpus4, fake_path, tmp_path, monkeypatch):
    ids = ",".join(it["id"] for it in _items(corpus4))
    monkeypatch.setenv("FAKE_METRIC_FAIL", ids)
    res = run(_cfg(corpus4, tmp_path, systems=["gt"], metrics=[RMS])).results
    cell = res["scores"]["gt"]["fake_rms"]
    assert cell["value"] is None and "all 4 items failed: fake failure" in cell["reason"]
    from eval.tables.render import render

    md = render(res, "md")
    row = next(line for line in md.splitlines() if line.startswith("| GT"))
    assert "—" in row and "0.000" not in row


def test_system_without_video_gets_missing_cells(corpus4, fake_path, tmp_path):
    out = tmp_path / "mine"
    for it in _items(corpus4)[:3]:
        (out / it["id"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus4 / it["ref_audio"], out / f"{it['id']}.wav")
    code = main(["score", "--system-dir", str(out), "--split", "synth_test", "--name", "mine", "--data-root",
                 str(corpus4), "--metrics", f"{RMS},{GAP}", "--out", str(tmp_path / "runs"), "--quiet",
                 "--run-id", "byo"])
    assert code == 0
    res = json.loads((tmp_path / "runs" / "byo" / "results.json").read_text())
    rms = res["scores"]["mine"]["fake_rms"]
    assert (rms["n"], rms["n_total"]) == (3, 4)
    assert res["scores"]["mine"]["fake_gap"]["value"] is None
    assert res["scores"]["mine"]["fake_gap"]["reason"] == "mine produces no video"
    lines = [json.loads(x) for x in (tmp_path / "runs" / "byo" / "items.jsonl").read_text().splitlines()]
    missing = [d for d in lines if d.get("stage") == "generate"]
    assert len(missing) == 1 and "no output for id" in missing[0]["reason"]


def test_rerun_reuses_everything_and_gives_identical_numbers(corpus4, fake_path, tmp_path, monkeypatch):
    log = tmp_path / "updates.log"
    monkeypatch.setenv("FAKE_METRIC_LOG", str(log))
    first = run(_cfg(corpus4, tmp_path / "runs")).results
    n_first = len(log.read_text().splitlines())
    assert n_first == 16  # 2 systems x 4 items x 2 metrics
    second = run(_cfg(corpus4, tmp_path / "runs")).results
    assert len(log.read_text().splitlines()) == n_first  # nothing recomputed
    assert second["scores"] == first["scores"]
    assert second["systems"]["still"]["generation"]["cached"] == 4
    # a different seed is a different content key: recomputed
    run(_cfg(corpus4, tmp_path / "runs", seed=1))
    assert len(log.read_text().splitlines()) == 2 * n_first


def test_unknown_names_say_did_you_mean(corpus4, fake_path, tmp_path, capsys):
    args = ["--data-root", str(corpus4), "--split", "synth_test", "--out", str(tmp_path), "--quiet"]
    assert main(["--table", "1", "--systems", "stil", *args]) == 2
    assert "Did you mean: still" in capsys.readouterr().err
    assert main(["--table", "1", "--systems", "gt", "--metrics", "fdi", *args]) == 2
    assert "Did you mean: fid" in capsys.readouterr().err
    assert main(["--table", "1", "--systems", "gt", "--metrics", "fid", "--backend", "fid=pytorch_fid", *args]) == 2
    assert "Did you mean: pytorch-fid" in capsys.readouterr().err
    assert main(["--table", "7", *args]) == 2
    assert "unknown table '7'" in capsys.readouterr().err
    assert main(["--table", "1", "--systems", "gt", "--split", "synth_tset", "--out", str(tmp_path)]) == 2
    assert "Did you mean: synth_test" in capsys.readouterr().err


def test_not_ready_system_is_an_error_when_asked_for(corpus4, tmp_path):
    with pytest.raises(RunError, match="not ready"):
        run(_cfg(corpus4, tmp_path, systems=["sadtalker"], metrics=[RMS]))


def test_corpus_ratio_metric_gets_an_item_bootstrap_ci(corpus4, fake_path, tmp_path):
    from fake_metrics import frame_means

    result = run(_cfg(corpus4, tmp_path, systems=["gt"], metrics=["fake_metrics:BrightRatio"]))
    cell = result.results["scores"]["gt"]["fake_ratio"]
    items = _items(corpus4)
    counts = [(float((m > m.mean()).sum()), float(m.size))
              for m in (frame_means(corpus4 / it["ref_video"]) for it in items)]
    assert cell["value"] == pytest.approx(100 * sum(b for b, _ in counts) / sum(f for _, f in counts), rel=1e-12)
    assert cell["ci95"] is not None and cell["ci95"][0] <= cell["value"] <= cell["ci95"][1]
    assert "corpus ratio bright/frames" in cell["ci_method"]


def test_fid_gets_a_paired_clip_bootstrap_ci(corpus4, tmp_path):
    from eval.metrics.fid import BOOTSTRAP_RESAMPLES

    cfg = _cfg(corpus4, tmp_path, metrics=["fid"], backends={"fid": "fd_mobilenetv2"}, run_id="fid")
    res = run(cfg).results
    still, gt = res["scores"]["still"]["fd_mobilenetv2"], res["scores"]["gt"]["fd_mobilenetv2"]
    assert (still["n"], still["n_total"]) == (4, 4) and still["value"] > 1.0
    lo, hi = still["ci95"]
    assert 0.0 < lo < hi and hi - lo < still["value"]
    assert still["ci_method"] == (f"percentile paired clip bootstrap over items (B={BOOTSTRAP_RESAMPLES}), "
                                  "within-clip scatter pooled")
    boot = res["details"]["still"]["fid"]["bootstrap"]
    assert boot["items"] == 4 and boot["resamples"] == BOOTSTRAP_RESAMPLES
    assert boot["seed"] == 0 and boot["ci95"] == [lo, hi]
    # gt scores the references against themselves: paired resamples stay identical, so the CI is ~[0, 0]
    assert gt["ci95"] is not None and max(abs(x) for x in gt["ci95"]) < 1e-3 * still["value"]
    # bootstrap=0: same per-item state (reused from the checkpoints), no CI, the reason recorded
    off = run(dataclasses.replace(cfg, metric_options={"fid": {"bootstrap": 0}})).results
    cell = off["scores"]["still"]["fd_mobilenetv2"]
    assert cell["value"] == still["value"] and cell["ci95"] is None and cell["ci_method"] is None
    assert off["details"]["still"]["fid"]["ci_reasons"] == {"fd_mobilenetv2": "bootstrap disabled (bootstrap=0)"}


class _FakeBar:
    """Records what the runner asks of tqdm."""

    made: list = []

    def __init__(self, total=None, desc="", disable=False, position=None, **kw):
        self.total, self.desc, self.disable, self.position, self.updates = total, desc, disable, position, []
        _FakeBar.made.append(self)

    def update(self, n=1):
        self.updates.append(n)

    def set_postfix_str(self, *a, **kw):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_a_progress_bar_per_system_and_metric(corpus4, fake_path, tmp_path, monkeypatch):
    import tqdm

    monkeypatch.setattr(tqdm, "tqdm", _FakeBar)
    _FakeBar.made = []
    cfg = _cfg(corpus4, tmp_path, quiet=False, run_id="bars")
    run(cfg)
    score = {b.desc.strip(): b for b in _FakeBar.made if b.position is not None}
    assert set(score) == {"score gt", "fake_rms", "fake_gap", "score still"}
    per_metric = [b for b in _FakeBar.made if b.desc.strip() in ("fake_rms", "fake_gap")]
    assert len(per_metric) == 4  # 2 systems x 2 metrics, beneath their system's bar
    for bar in per_metric:
        assert bar.total == 4 and bar.updates == [1, 1, 1, 1] and bar.position in (1, 2) and not bar.disable
    assert sorted(b.position for b in per_metric) == [1, 1, 2, 2]
    assert all(b.position == 0 for b in _FakeBar.made if b.desc.startswith("score"))
    # a resumed run: each metric bar starts with the items its checkpoint restored
    _FakeBar.made = []
    run(cfg)
    assert [b.updates for b in _FakeBar.made if b.desc.strip() in ("fake_rms", "fake_gap")] == [[4]] * 4
    # --quiet: every bar is disabled
    _FakeBar.made = []
    run(dataclasses.replace(cfg, quiet=True))
    assert _FakeBar.made and all(b.disable for b in _FakeBar.made)
