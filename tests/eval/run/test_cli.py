"""``ls`` and ``table`` subcommands."""

from __future__ import annotations

import json

from eval.run.cli import main


def test_ls_lists_with_readiness(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TTSF_BASELINES", str(tmp_path))
    assert main(["ls", "tables"]) == 0
    out = capsys.readouterr().out
    assert "Table 3: synthesised speech on LRS2" in out and "WER (%),MCD,C-SIM,F0 RMSE" in out
    assert main(["ls", "systems"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "yes: ready" in rows["gt"] and "no: not installed" in rows["sadtalker"]
    assert main(["ls", "splits"]) == 0
    out = capsys.readouterr().out
    assert "lrs2_test_subset" in out and "no data root for lrs2" in out
    assert main(["ls", "backends"]) == 0
    assert "python -m eval.weights download" in capsys.readouterr().out


def test_table_rerenders_a_finished_run(tmp_path, capsys):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    cell = {"value": 0.5, "reason": None, "metric": "idsim", "n": 3, "n_total": 4, "n_failed": 1, "std": 0.1,
            "ci95": [0.4, 0.6], "ci_method": "bootstrap"}
    results = {"schema": 1, "table": "1", "run_id": "r",
               "split": {"name": "synth_test", "n_items": 4, "limit": None, "synthetic": True, "sha256": "x"},
               "metrics": {"idsim": {"backend": "sface", "backend_paper": False, "higher_is_better": True}},
               "scores": {"gt": {"idsim": cell}}, "systems_skipped": {}}
    (run_dir / "results.json").write_text(json.dumps(results))
    assert main(["table", str(run_dir), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "gt,GT,ID-SIM,idsim,0.5,3,4,1,0.4,0.6" in out
    assert main(["table", str(tmp_path / "absent")]) == 2
