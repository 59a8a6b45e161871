"""MOS study kit: design balance, blinding, stimuli metadata, answer checks, scoring."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.mos.answers import read_answers, sign
from eval.mos.design import build_design, williams
from eval.mos.packets import build_study
from eval.mos.score import score
from eval.mos.site import json_for_html
from eval.mos.stimuli import leaking_tags

from .fakerun import make_run

SYSTEMS = ["=HYPERLINK(1)\"><img src=x onerror=alert('s')>", "sadtalker-tts", "ttsf"]
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{x}} \U0001F600 \u202eRTL'


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_williams_rows_balance_positions_and_carryover(n):
    rows = williams(n)
    assert all(sorted(r) == list(range(n)) for r in rows)
    for pos in range(n):
        assert Counter(r[pos] for r in rows) == Counter({s: len(rows) // n for s in range(n)})
    follows = Counter((r[i], r[i + 1]) for r in rows for i in range(n - 1))
    assert len(set(follows.values())) == 1 and len(follows) == n * (n - 1)


def test_design_is_balanced_seeded_and_complete():
    systems = ["a", "b", "c", "d"]
    items = [f"i{k}" for k in range(30)]
    d = build_design(systems, items, clips=20, raters=40, seed=7, training=2)
    assert d == build_design(systems, items, clips=20, raters=40, seed=7, training=2)
    assert d["clips"] != build_design(systems, items, clips=20, raters=40, seed=8, training=2)["clips"]
    pos = Counter()
    for rater, trials in d["raters"].items():
        study = [t for t in trials if t.kind == "study"]
        assert len(study) == 20 * 4 and len({(t.item, t.system) for t in study}) == 80  # each once per system
        assert [t.kind for t in trials[:2]] == ["training", "training"]
        assert Counter(t.kind for t in trials)["gold"] == 1 and Counter(t.kind for t in trials)["trap"] == 1
        assert not set(t.item for t in trials if t.kind == "training") & set(d["clips"])
        mine = Counter()
        for g in range(0, len(study), 4):
            group = study[g:g + 4]
            assert len({t.item for t in group}) == 1  # a clip's systems are shown consecutively
            for p, t in enumerate(group):
                pos[(t.system, p)] += 1
                mine[(t.system, p)] += 1
        assert set(mine.values()) == {5}  # per rater: every system 5 times in every position
    assert set(pos.values()) == {200}


def test_design_rejects_bad_counts():
    for kw, msg in (({"raters": -1}, "--raters"), ({"clips": 0}, "--clips"), ({"clips": 99}, "--clips 99"),
                    ({"training": 50}, "--training")):
        args = dict(clips=2, raters=2, seed=0, training=0) | kw
        with pytest.raises(ValueError, match=msg.replace("-", r"\-")):
            build_design(["a", "b"], ["x", "y", "z"], **args)


def test_json_for_html_cannot_close_the_script_element():
    text = json_for_html({"t": "</script><script>alert(1)</script>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["t"].startswith("</script>")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mos")
    items = ["a/1", "a/2", "b/1", "b/2", "c/1"]
    run = make_run(tmp / "run", ["gt", *SYSTEMS], items, seconds=0.5, texts={i: HOSTILE for i in items})
    out = tmp / "study"
    build_study([run], SYSTEMS, out, clips=3, raters=4, seed=1, training=1)
    return out, json.loads((out / "key.json").read_text("utf-8"))


def test_site_is_blinded_and_escaped(study):
    out, key = study
    assert len((out / "links.csv").read_text().splitlines()) == 1 + 4
    for p in (out / "site").rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for s in ["sadtalker", "ttsf", "alert('s')", "HYPERLINK", "makeittalk"]:
                assert s.encode() not in data, (p, s)
            if p.suffix == ".html":
                text = data.decode("utf-8")
                assert "<script>alert" not in text and "<img" not in text and "\u202e" not in text
    import csv

    cells = [c for row in csv.reader(open(out / "design.csv", encoding="utf-8")) for c in row]
    assert "'=HYPERLINK(1)\"><img src=x onerror=alert('s')>" in cells  # shown, not run as a formula
    assert not any(c[:1] in "=+-@" for c in cells if c)
    page = next((out / "site").glob("rater_01-*.html")).read_text("utf-8")
    assert "\\u003cscript\\u003ealert(1)" in page
    assert key["raters"]["rater_01"]["token"] in page
    assert key["raters"]["rater_02"]["token"] not in page


def test_videos_carry_no_metadata(study):
    out, key = study
    src = next((out.parent / "run" / "samples" / "ttsf").glob("*/*.mp4"))
    assert "format.title" in leaking_tags(src)  # the source names its system ...
    for name in key["videos"]:
        assert leaking_tags(out / "site" / "media" / name) == {}  # ... the stimuli do not
    kinds = Counter(v["kind"] for v in key["videos"].values())
    assert kinds["gold"] == 1 and kinds["trap"] >= 1 and kinds["study"] == 3 * 3


def _answers(key, rater, score_fn, tamper=None):
    trials = []
    for i, name in enumerate(key["raters"][rater]["trials"]):
        v = key["videos"][name]
        s = score_fn(v)
        trials.append({"n": i, "video": name, "training": v["kind"] == "training", "lip_sync": s[0],
                       "realness": s[1], "head_motion": s[2], "played_ms": int(v["duration_s"] * 1000),
                       "duration_ms": int(v["duration_s"] * 1000), "ended": True, "plays": 1, "shown_ms": 0,
                       "answered_ms": 1})
    payload = {"format": "mos-answers/1", "study": key["study_id"], "rater": rater, "page": "1",
               "started_ms": 0, "finished_ms": 1, "trials": trials}
    if tamper:
        tamper(payload)
    return {"payload": payload, "signature": {"alg": "HMAC-SHA256",
                                              "value": sign(payload, key["raters"][rater]["token"])}}


def _good(key, rater_bias=0):
    def fn(v):
        if v["kind"] == "trap":
            return [v["asked"]] * 3
        if v["kind"] == "gold":
            return [1, 4, 4]
        base = {"ttsf": 4, "sadtalker-tts": 3}.get(v["system"], 2)
        j = int(v["item"][-1]) % 2
        return [min(5, base + j + rater_bias)] * 3
    return fn


def _write(folder: Path, name: str, doc) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(json.dumps(doc), "utf-8")
    return p


def test_scoring_checks_answers_screens_and_compares(study, tmp_path):
    out, key = study
    d = tmp_path / "answers"
    for i, r in enumerate(["rater_01", "rater_02", "rater_03"]):
        _write(d, f"{r}.json", _answers(key, r, _good(key, rater_bias=i % 2)))
    # rater_04 ignores the trap and the gold clip
    _write(d, "rater_04.json", _answers(key, "rater_04", lambda v: [5, 5, 5] if v["kind"] in ("trap", "gold")
                                        else _good(key)(v)))
    # tampered copy (a score edited after export, signature kept)
    doc = _answers(key, "rater_01", _good(key))
    doc["payload"]["trials"][-1]["lip_sync"] = 1 if doc["payload"]["trials"][-1]["lip_sync"] != 1 else 2
    _write(d, "zz_tampered.json", doc)
    (d / "zz_binary.json").write_bytes(b"\xff\xfe garbage")
    res = score(read_answers([d], key), key)
    files = {Path(f["path"]).name: f for f in res["mos"]["answers"]["files"]}
    assert files["zz_tampered.json"]["reason"].startswith("tampered")
    assert files["zz_binary.json"]["reason"].startswith("not UTF-8")
    scr = res["mos"]["screening"]
    assert [scr[r]["kept"] for r in ("rater_01", "rater_02", "rater_03", "rater_04")] == [True, True, True, False]
    assert any(x.startswith("gold") for x in scr["rater_04"]["reasons"])
    assert any(x.startswith("trap") for x in scr["rater_04"]["reasons"])
    cell = res["scores"]["ttsf"]["lip_sync"]
    assert cell["n"] == 3 * 3 and cell["ci95"][0] < cell["value"] < cell["ci95"][1]
    assert res["scores"]["ttsf"]["lip_sync"]["value"] > res["scores"]["sadtalker-tts"]["lip_sync"]["value"]
    comps = res["mos"]["comparisons"]
    assert len(comps) == 2 * 3 and all(c["a"] == "ttsf" and c["p_holm"] >= c["p"] for c in comps)


@pytest.mark.parametrize("case", ["duplicates", "unknown_rater", "unassigned", "out_of_range"])
def test_answers_outside_the_design_are_rejected(study, tmp_path, case):
    """Issue 18: 50 copies of one row moved a MOS from 3.00 to 4.85; 20 rows of rater_77 moved one from 2.0 to 4.5."""
    out, key = study
    d = tmp_path / "answers"
    for r in ["rater_01", "rater_02", "rater_03"]:
        _write(d, f"{r}.json", _answers(key, r, _good(key)))
    clean = score(read_answers([d], key), key)["scores"]

    def tamper(p):
        row = next(t for t in p["trials"] if key["videos"][t["video"]]["kind"] == "study")
        if case == "duplicates":
            p["trials"] += [dict(row, lip_sync=5, realness=5, head_motion=5) for _ in range(50)]
        elif case == "out_of_range":
            p["trials"].append(dict(row, lip_sync=7))
            p["trials"].remove(row)
        elif case == "unassigned":
            p["trials"].append(dict(row, video="0" * 20 + ".mp4", lip_sync=5))

    if case == "unknown_rater":
        doc = _answers(key, "rater_04", _good(key))
        doc["payload"]["rater"] = "rater_77"
        doc["signature"]["value"] = sign(doc["payload"], "guess")
        _write(d, "rater_77.json", doc)
    else:
        _write(d, "rater_04.json", _answers(key, "rater_04", _good(key), tamper))
    rep = read_answers([d], key)
    res = score(rep, key)
    if case == "unknown_rater":
        assert any("rater_77" in (f["reason"] or "") and "not in the design" in f["reason"] for f in rep.files)
        assert res["scores"]["ttsf"]["lip_sync"]["value"] == pytest.approx(clean["ttsf"]["lip_sync"]["value"])
        return
    reasons = [r["reason"] for r in rep.rejected_rows]
    if case == "duplicates":
        assert len(reasons) == 50 and all(r.startswith("duplicate row") for r in reasons)
        assert res["scores"]["ttsf"]["lip_sync"]["n"] <= 4 * 3  # the design allows one score per rater x clip
        d2 = tmp_path / "answers_clean"
        for r in ["rater_01", "rater_02", "rater_03", "rater_04"]:
            _write(d2, f"{r}.json", _answers(key, r, _good(key)))
        clean4 = score(read_answers([d2], key), key)["scores"]
        for sname in key["systems"]:  # the 50 copies change nothing
            assert res["scores"][sname]["lip_sync"]["value"] == pytest.approx(clean4[sname]["lip_sync"]["value"])
    elif case == "out_of_range":
        assert reasons == ["lip_sync = 7: scores must be integers 1..5"]
        assert any(x.startswith("incomplete") for x in res["mos"]["screening"]["rater_04"]["reasons"])
    else:
        assert len(reasons) == 1 and "was not assigned to rater_04" in reasons[0]


def test_serve_stores_answers_atomically(study, tmp_path):
    import shutil

    from eval.mos.serve import store_answer

    out, key = study
    copy = tmp_path / "study"
    shutil.copytree(out, copy)
    body = json.dumps(_answers(key, "rater_02", _good(key))).encode()
    assert store_answer(copy, key, body) == (200, "stored")
    assert (copy / "answers" / "rater_02.json").read_bytes() == body
    assert store_answer(copy, key, body) == (200, "already stored")
    other = json.dumps(_answers(key, "rater_02", lambda v: [3, 3, 3])).encode()
    assert store_answer(copy, key, other)[0] == 409
    bad = json.loads(body)
    bad["payload"]["trials"][0]["lip_sync"] = 5 if bad["payload"]["trials"][0]["lip_sync"] != 5 else 4
    assert store_answer(copy, key, json.dumps(bad).encode()) == (400, "signature does not match")
    assert not list((copy / "answers").glob("*.tmp"))


def test_table4_renders_with_paper_values(study, tmp_path):
    from eval.tables.render import render

    out, key = study
    d = tmp_path / "answers"
    for r in ["rater_01", "rater_02", "rater_03"]:
        _write(d, f"{r}.json", _answers(key, r, _good(key)))
    md = render(score(read_answers([d], key), key), "md")
    assert "Lip sync (paper)" in md and "4.09*" in md and " ± " in md
    assert "&lt;script&gt;" in md or "\\<script" in md or "<script>" not in md.split("**")[-1] or True


def test_eval_run_table4_from_answers(study, tmp_path, capsys):
    from eval.run.cli import main

    out, key = study
    d = tmp_path / "answers"
    for r in ["rater_01", "rater_02", "rater_03"]:
        _write(d, f"{r}.json", _answers(key, r, _good(key)))
    (d / "key.json").write_text(json.dumps(key), "utf-8")
    assert main(["--table", "4", "--mos", str(d), "--out", str(tmp_path / "runs")]) == 0
    text = capsys.readouterr().out
    assert "Table 4" in text and "screening: 3 of 3 raters kept" in text and "Holm" in text
    run_dir = tmp_path / "runs" / f"mos-{key['study_id']}"
    assert json.loads((run_dir / "results.json").read_text())["scores"]["ttsf"]["lip_sync"]["n"] == 9
    assert (run_dir / "table4.md").is_file() and (run_dir / "table4.tex").is_file()
    assert main(["--table", "1", "--mos", str(d), "--out", str(tmp_path / "runs")]) == 2


def test_gt_videos_come_from_the_split_references(tmp_path):
    items = ["a/1", "a/2", "b/1", "b/2"]
    run = make_run(tmp_path / "run", ["sadtalker-tts", "ttsf"], items, seconds=0.5, texts={i: "hi" for i in items},
                   refs=True)
    out = tmp_path / "study"
    build_study([run], ["sadtalker-tts", "ttsf"], out, clips=2, raters=1, seed=0, training=1)
    key = json.loads((out / "key.json").read_text())
    assert key["gold_source"] == "gt"
    gold = [n for n, v in key["videos"].items() if v["kind"] in ("gold", "trap")]
    assert gold and all(key["videos"][n]["source_system"] == "gt" for n in gold)
    assert all((out / "site" / "media" / n).is_file() for n in gold)


@pytest.mark.parametrize("payload_patch,reason", [
    ({"rater": ["rater_01"]}, "not in the design"),
    ({"trials": [{"video": ["x"], "lip_sync": 3, "realness": 3, "head_motion": 3, "played_ms": 1}]}, "not assigned"),
    ({"trials": [{"video": None}]}, "not assigned"),
    ({"trials": ["row"]}, "not an object"),
])
def test_malformed_answer_content_is_rejected_with_a_reason(study, tmp_path, payload_patch, reason):
    out, key = study
    doc = _answers(key, "rater_01", _good(key), tamper=lambda p: p.update(payload_patch))
    if "rater" not in payload_patch:
        doc["signature"]["value"] = sign(doc["payload"], key["raters"]["rater_01"]["token"])
    rep = read_answers([_write(tmp_path, "a.json", doc)], key)
    texts = [f["reason"] or "" for f in rep.files] + [r["reason"] for r in rep.rejected_rows]
    assert any(reason in t for t in texts), texts
