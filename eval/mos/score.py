"""Table 4 from checked answers: screening, MOS with crossed-random-effects CIs, comparisons vs TTSF."""

from __future__ import annotations

from typing import Optional

import numpy as np

from eval.mos.answers import Report
from eval.mos.screening import Rules, consensus_correlation, screen
from eval.mos.stats import METHOD, crossed_mean, holm, naive_ci, paired_comparison

REFERENCE = "ttsf"


def _arrays(report: Report, key: dict, raters: list[str], rules: Rules):
    criteria = key["criteria"]
    study = sorted(n for n, v in key["videos"].items() if v["kind"] == "study")
    col = {n: i for i, n in enumerate(study)}
    idx = {r: i for i, r in enumerate(raters)}
    R = len(raters)
    y = np.full((R, len(study), len(criteria)), np.nan)
    gold = np.full(R, np.nan)
    trap = np.full(R, np.nan)
    watched = np.zeros(R)
    counted = np.zeros(R)
    for row in report.rows:
        r = idx[row.rater]
        if row.kind == "training":
            continue
        ok = row.ended and row.played_ms >= rules.min_view_fraction * row.duration_ms
        watched[r] += ok
        counted[r] += 1
        if row.kind == "study":
            y[r, col[row.video]] = [row.scores[c] for c in criteria]
        elif row.kind == "gold":
            gold[r] = row.scores["lip_sync"]
        elif row.kind == "trap":
            trap[r] = float(all(row.scores[c] == row.asked for c in criteria))
    viewed = np.where(counted > 0, watched / np.maximum(counted, 1), 1.0)
    assigned = np.array([sum(key["videos"][n]["kind"] == "study" for n in key["raters"][r]["trials"])
                         for r in raters])
    return y, gold, trap, viewed, assigned, study


def score(report: Report, key: dict, rules: Optional[Rules] = None, reference: str = REFERENCE) -> dict:
    """A results.json-shaped dict for Table 4 plus ``mos`` details (screening, comparisons, counts)."""
    from eval import results as res

    rules = rules or Rules(**key.get("rules", {}))
    criteria, systems = key["criteria"], key["systems"]
    answered = sorted({row.rater for row in report.rows})
    y, gold, trap, viewed, assigned, study = _arrays(report, key, answered, rules)
    reasons = screen(y, gold, trap, viewed, assigned, rules) if answered else []
    corr = consensus_correlation(y, np.array([not r for r in reasons])) if answered else []
    screening = {r: {"kept": not reasons[i], "reasons": reasons[i],
                     "correlation": None if corr[i] is None else round(corr[i], 4)} for i, r in enumerate(answered)}
    for r in key["raters"]:
        if r not in screening:
            screening[r] = {"kept": False, "reasons": ["no accepted answer file"], "correlation": None}
    kept = [i for i, r in enumerate(answered) if not reasons[i]]
    clips = key["clips"]
    cidx = {c: j for j, c in enumerate(clips)}
    tables = {s: np.full((len(kept), len(clips), len(criteria)), np.nan) for s in systems}
    for vi, name in enumerate(study):
        v = key["videos"][name]
        tables[v["system"]][:, cidx[v["item"]], :] = y[kept, vi, :]
    scores: dict[str, dict] = {}
    naive: dict[str, dict] = {}
    for s in systems:
        scores[s], naive[s] = {}, {}
        for k, c in enumerate(criteria):
            t = tables[s][:, :, k]
            n = int(np.isfinite(t).sum())
            n_total = len(kept) * len(clips)
            if n == 0:
                scores[s][c] = res.score_cell(None, "no rating passed screening", "mos", 0, n_total, 0, None, None)
                continue
            est = crossed_mean(t)
            ci = est.ci()
            cell = res.score_cell(est.mean, None, "mos", n, n, 0, None, METHOD if ci else None)
            cell["ci95"] = list(ci) if ci else None
            cell["ci_reason"] = est.reason
            cell["n_raters"], cell["n_clips"] = est.n_raters, est.n_clips
            cell["variance_components"] = {"rater": est.var_rater, "clip": est.var_clip, "residual": est.var_resid}
            scores[s][c] = cell
            m, half = naive_ci(t[np.isfinite(t)])
            naive[s][c] = None if half is None else [m - half, m + half]
    comparisons = []
    if reference in systems:
        for s in systems:
            if s == reference:
                continue
            for k, c in enumerate(criteria):
                comparisons.append(paired_comparison(tables[reference][:, :, k], tables[s][:, :, k], reference, s, c))
        for comp, p in zip(comparisons, holm([c.p for c in comparisons])):
            comp.p_holm = p
    return {
        "schema": res.SCHEMA_VERSION, "table": "4", "run_id": f"mos-{key['study_id']}",
        "split": {"name": None, "sha256": None, "n_items": len(clips), "limit": None, "synthetic": None},
        "metrics": {"mos": {"backend": "human raters", "backend_paper": True, "higher_is_better": True,
                            "ci_method": METHOD}},
        "scores": scores, "systems_skipped": {},
        "mos": {"study_id": key["study_id"], "reference": reference if reference in systems else None,
                "rules": rules.to_json(), "answers": report.to_json(), "screening": screening,
                "raters_kept": len(kept), "raters_answered": len(answered), "raters_designed": len(key["raters"]),
                "comparisons": [c.to_json() for c in comparisons],
                "comparison_method": "paired crossed-random-effects t test on per-(rater, clip) differences, "
                                     "Holm-Bonferroni over all comparisons", "naive_ci95": naive},
        "provenance": res.provenance("cpu"),
    }


def score_files(answers: list, key_path) -> dict:
    """Read ``key_path`` and the answer files/folders, check, screen and score them (raises ``CliError``
    when the key is unreadable or no answer file is accepted)."""
    from eval.mos.answers import read_answers
    from eval.mos.keyfile import CliError, load_key

    key = load_key(key_path)
    report = read_answers(answers, key)
    if not report.rows:
        first = next((f"{f['path']}: {f['reason']}" for f in report.files if f["reason"]), None)
        where = ", ".join(str(a) for a in answers)
        raise CliError(f"answers {where}: no accepted answer file" + (f" ({len(report.files)} rejected; first: {first})"
                                                                      if first else " (no *.json file found)"))
    return score(report, key)


def report_text(results: dict) -> str:
    """Plain-text summary: answer checks, screening per rater, comparisons."""
    m = results["mos"]
    c = m["answers"]["counts"]
    lines = [f"answers: {c['files_accepted']}/{c['files']} files accepted, {c['rows_accepted']} rows accepted, "
             f"{c['rows_rejected']} rejected"]
    for f in m["answers"]["files"]:
        if f["status"] == "rejected":
            lines.append(f"  rejected file {f['path']}: {f['reason']}")
    for r in m["answers"]["rejected_rows"]:
        lines.append(f"  rejected row {r['row']} of {r['path']}: {r['reason']}")
    lines.append(f"screening: {m['raters_kept']} of {m['raters_answered']} raters kept "
                 f"({m['raters_designed']} in the design)")
    for rater, s in sorted(m["screening"].items()):
        if not s["kept"]:
            lines.append(f"  {rater}: " + "; ".join(s["reasons"]))
    if m["comparisons"]:
        lines.append(f"vs {m['reference']} ({m['comparison_method']}):")
        for cp in m["comparisons"]:
            if cp["p"] is None:
                lines.append(f"  {cp['b']:<16} {cp['criterion']:<12} — ({cp['reason']})")
                continue
            sig = "*" if cp["p_holm"] is not None and cp["p_holm"] < 0.05 else ""
            lines.append(f"  {cp['b']:<16} {cp['criterion']:<12} diff {cp['diff']:+.2f} (n = {cp['n_pairs']}), "
                         f"p = {cp['p']:.3g}, Holm p = {cp['p_holm']:.3g}{sig}")
    return "\n".join(lines) + "\n"
