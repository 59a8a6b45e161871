"""Rendering: ours beside the paper, deltas, not-comparable marks, failure footnotes, escaping."""

from __future__ import annotations

import csv
import io
import json

import pytest

from eval.tables.paper import PaperValue, load_paper_table
from eval.tables.render import render, tex_escape
from eval.tables.specs import get_table


def _cell(value, n=10, n_total=10, reason=None, metric="lse"):
    return {"value": value, "reason": reason, "metric": metric, "n": n, "n_total": n_total,
            "n_failed": n_total - n, "std": None, "ci95": None, "ci_method": None}


def _results(split="lrs2_test_subset", synthetic=False, lse_backend=("syncnet_v2", True)):
    return {
        "schema": 1, "table": "1", "run_id": "r1",
        "split": {"name": split, "sha256": "x", "n_items": 10, "limit": None, "synthetic": synthetic},
        "metrics": {"lse": {"backend": lse_backend[0], "backend_paper": lse_backend[1], "higher_is_better": True},
                    "fid": {"backend": "fd_mobilenetv2", "backend_paper": False, "output_name": "fd_mobilenetv2",
                            "higher_is_better": False}},
        "scores": {"gt": {"lse_c": _cell(5.0), "lse_d": _cell(7.0), "fd_mobilenetv2": _cell(0.0, metric="fid")},
                   "sadtalker": {"lse_c": _cell(4.5, n=7), "lse_d": _cell(7.5, n=7),
                                 "fd_mobilenetv2": _cell(None, n=0, reason="weights missing: pt_inception",
                                                         metric="fid")}},
        "systems_skipped": {},
    }


def _row(md: str, label: str) -> list[str]:
    line = next(x for x in md.splitlines() if x.startswith(f"| {label} "))
    return [c.strip() for c in line.strip("|").split("|")]


def test_paper_values_deltas_and_unverified_marks():
    md = render(_results(), "md")
    head = _row(md, "System")
    # FID's offline stand-in is named in the header
    assert head[:5] == ["System", "FID (fd_mobilenetv2)↓", "LSE-C↑", "LSE-C (paper)", "Δ"]
    gt = _row(md, "GT")
    assert gt[2:5] == ["5.000", "5.360*", "-0.360"]
    sad = _row(md, "SadTalker (GT audio)")
    assert sad[2].startswith("4.500[") and sad[3:5] == ["4.978*", "-0.478"]
    assert "n = 7/10, 3 failed: see items.jsonl" in md
    assert "published value from an unverified secondary source" in md
    # paper rows we did not run are shown with their published value
    assert _row(md, "SadTalker (TTS)")[2:4] == ["not run", "6.256*"]


def test_missing_is_a_dash_with_its_reason_never_zero():
    md = render(_results(), "md")
    fid = _row(md, "SadTalker (GT audio)")[1]
    assert fid.startswith("—") and "0" not in fid.replace("[", "").split("]")[0].lstrip("—")
    assert "weights missing: pt_inception" in md
    # the paper's unknown FID values stay blank: no paper/Δ column for FID at all
    assert "FID (paper)" not in md


def test_not_comparable_marks_backend_and_split():
    md = render(_results(), "md")
    assert _row(md, "GT")[1] == "0.00†"  # offline FID backend (2 decimals)
    assert "† FID (fd_mobilenetv2): not comparable with the paper: backend fd_mobilenetv2 is not the paper's" in md
    assert _row(md, "GT")[2] == "5.000"  # paper backend on LRS2: comparable, no mark
    synth = render(_results(split="synth_test", synthetic=True), "md")
    assert _row(synth, "GT")[2] == "5.000†" and "split synth_test is synthetic, the paper's is LRS2" in synth
    # no delta against the paper for a cell that is not comparable; the published value stays shown
    assert _row(synth, "GT")[3:5] == ["5.360*", ""]


def test_csv_and_tex():
    rows = list(csv.DictReader(io.StringIO(render(_results(), "csv"))))
    sad = next(r for r in rows if r["system"] == "sadtalker" and r["column"] == "LSE-C")
    assert float(sad["value"]) == 4.5 and sad["n"] == "7" and float(sad["paper_value"]) == 4.978
    assert sad["paper_provenance"] == "unverified" and float(sad["delta"]) == pytest.approx(-0.478)
    miss = next(r for r in rows if r["system"] == "sadtalker" and r["column"].startswith("FID"))
    assert miss["value"] == "" and miss["reason"] == "weights missing: pt_inception"
    tex = render(_results(), "tex")
    assert r"\begin{tabular}" in tex and r"LSE-C$\uparrow$" in tex and "5.360*" in tex
    assert tex_escape("a_b & 50% #1 {x} ~ ^") == r"a\_b \& 50\% \#1 \{x\} \textasciitilde{} \textasciicircum{}"


def test_paper_tables_have_provenance_and_no_zero_placeholders():
    for key in ("1", "2", "3", "4", "5"):
        table = load_paper_table(key)
        assert table is not None
        for (system, output), v in table.values.items():
            assert v.value != 0 and v.provenance in ("verified", "unverified")
    t3 = load_paper_table("3")
    assert t3.get("ttsf-tts", "wer").value == 14.56 and t3.get("facetts", "csim").value == 0.272
    assert t3.get("gt", "mcd") is None  # "–" in the paper: unknown, blank
    t1 = load_paper_table("1")
    assert t1.get("gt", "lse_c") == PaperValue(5.360, "unverified", t1.get("gt", "lse_c").source)


def test_malformed_paper_value_is_refused(tmp_path):
    (tmp_path / "table1.json").write_text(json.dumps({"rows": {"gt": {"values": {"lse_c": {"value": "5.3"}}}}}))
    with pytest.raises(ValueError, match="finite number"):
        load_paper_table("1", tmp_path)


def test_unknown_table_did_you_mean():
    from ttsf.names import UnknownName

    with pytest.raises(UnknownName, match="Did you mean"):
        get_table("fig 5".replace(" ", "x"))
    assert get_table("Table 3").key == "3"
