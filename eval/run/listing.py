"""``python -m eval.run ls …``: what exists and whether it is ready here."""

from __future__ import annotations

from typing import Optional


def _table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def list_tables() -> str:
    from eval.tables.specs import TABLES

    rows = [["table", "kind", "columns", "paper split", "synthetic split", "title"]]
    for key, t in TABLES.items():
        rows.append([key, t.kind, ",".join(c.label for c in t.columns), t.paper_split or "-", t.synth_split or "-",
                     t.title])
    return _table(rows)


def list_systems() -> str:
    from eval.systems import REGISTRY, create

    rows = [["system", "produces", "speech", "description", "ready"]]
    for name in REGISTRY.names():
        try:
            s = create(name)
            ok, reason = s.readiness()
            rows.append([name, "+".join(s.produces) or "-", s.speech_source, s.description,
                         ("yes: " if ok else "no: ") + reason])
        except Exception as exc:  # listing must show every entry, broken ones with the reason
            rows.append([name, "?", "?", "", f"no: cannot load ({type(exc).__name__}: {exc})"])
    rows.append(["dir:PATH", "audio/video", "self", "outputs on disk: PATH/<id>.mp4 and/or <id>.wav", "-"])
    return _table(rows)


def _metric_rows(backends: bool) -> list[list[str]]:
    from eval.run.plugins import metric_class, metric_names, missing_weights

    if backends:
        rows = [["metric", "backend", "paper", "weights", "ready"]]
    else:
        rows = [["metric", "version", "level", "needs", "better", "backends (ready?)"]]
    try:
        names = metric_names()
    except ImportError as exc:
        return rows + [["(metrics registry unavailable)", str(exc), "", "", ""][: len(rows[0])]]
    for name in names:
        try:
            spec = metric_class(name).spec
        except Exception as exc:  # shown, not hidden
            rows.append([name, f"cannot load: {type(exc).__name__}: {exc}"] + [""] * (len(rows[0]) - 2))
            continue
        if backends:
            for b in spec.backends:
                miss = missing_weights(b)
                rows.append([name, b.name, "yes" if b.paper else "no (offline)", ",".join(b.weights) or "-",
                             "yes" if not miss else "no: missing " + ", ".join(
                                 f"{w} (python -m eval.weights download {w})" for w in sorted(miss))])
        else:
            ready = ", ".join(f"{b.name}{'' if not missing_weights(b) else ' (weights missing)'}"
                              for b in spec.backends)
            rows.append([name, spec.version, spec.level, ",".join(spec.needs),
                         "higher" if spec.higher_is_better else "lower", ready])
    return rows


def list_splits(data_root: Optional[str]) -> str:
    from eval.data import roots
    from eval.data.splits import SPLITS, read_checksums

    sums = read_checksums()
    rows = [["split", "dataset", "file", "data found", "description"]]
    for name, s in SPLITS.items():
        if s.dataset == "synth":
            found = "built on demand (synthetic)"
        else:
            try:
                path = roots.dataset_root(s.dataset, data_root)
                found = f"yes ({path})"
            except (roots.DataRootError, KeyError) as exc:
                found = f"no: {exc}"
        where = f"splits/{s.filename}" + ("" if s.filename in sums else " (not frozen)") if s.filename else "-"
        rows.append([name, s.dataset, where, found, s.description])
    return _table(rows)


def listing(what: str, data_root: Optional[str] = None) -> str:
    if what == "tables":
        return list_tables()
    if what == "systems":
        return list_systems()
    if what == "metrics":
        return _table(_metric_rows(False))
    if what == "backends":
        return _table(_metric_rows(True))
    if what == "splits":
        return list_splits(data_root)
    from ttsf.names import UnknownName

    raise UnknownName("listing", what, ["tables", "systems", "metrics", "splits", "backends"])
