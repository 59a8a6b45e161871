"""Render a run's ``results.json`` as a table (Markdown, LaTeX, CSV), ours beside the paper's.

Conventions in every format:

- a missing value is ``—`` with a footnote giving the reason (never 0);
- ``n = 497/500, 3 failed: see items.jsonl`` footnotes a cell based on fewer items;
- ``†`` marks a cell not comparable with the paper (another backend, or another dataset);
- ``*`` marks a published value from an unverified source; unknown published values are blank;
- Δ = ours − paper, shown only where the paper has a value and the cell is comparable.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import Optional

from eval.tables.paper import PaperTable, PaperValue, load_paper_table
from eval.tables.specs import Column, TableSpec, get_table
from ttsf.inputs import csv_cell, md_text

MISSING = "—"
NOT_COMPARABLE = "†"
UNVERIFIED = "*"
FORMATS = ("md", "tex", "csv")


@dataclasses.dataclass
class Cell:
    column: Column
    output: Optional[str]  # output name found in the results
    value: Optional[float]
    reason: Optional[str]
    n: int = 0
    n_total: int = 0
    n_failed: int = 0
    ci95: Optional[list] = None
    paper: Optional[PaperValue] = None
    comparable: bool = True
    notes: list = dataclasses.field(default_factory=list)  # footnote ids
    run: bool = True  # False: the system was not part of this run

    @property
    def delta(self) -> Optional[float]:
        """ours - paper; None where either is missing or the cell is not comparable
        (another backend or split: a difference would mean nothing)."""
        if self.value is None or self.paper is None or not self.comparable:
            return None
        return self.value - self.paper.value


@dataclasses.dataclass
class View:
    spec: TableSpec
    title: str
    subtitle: str
    columns: list[Column]
    paper_columns: set  # column labels with at least one published value
    rows: list[tuple[str, str, list[Cell]]]  # (system, label, cells)
    footnotes: list[str]


def _comparability(results: dict, spec: TableSpec, column: Column) -> Optional[str]:
    """Why ``column`` is not comparable with the paper (``None`` when it is)."""
    reasons = []
    meta = results.get("metrics", {}).get(column.metric, {})
    if meta.get("backend") is not None and not meta.get("backend_paper", False):
        reasons.append(f"backend {meta['backend']} is not the paper's")
    split = results.get("split", {})
    if split.get("synthetic"):
        reasons.append(f"split {split.get('name')} is synthetic, the paper's is {spec.paper_dataset.upper()}")
    elif spec.paper_split and split.get("name") not in (spec.paper_split, None):
        from eval.data.splits import SPLITS

        ds = SPLITS[split["name"]].dataset if split.get("name") in SPLITS else None
        if ds != spec.paper_dataset:
            reasons.append(f"split {split.get('name')} is not on {spec.paper_dataset.upper()}")
    return "; ".join(reasons) or None


def _find_output(results: dict, system: str, column: Column) -> Optional[str]:
    scores = results.get("scores", {}).get(system, {})
    if column.output in scores:
        return column.output
    alt = results.get("metrics", {}).get(column.metric, {}).get("output_name")
    if alt and alt in scores:
        return alt
    return None


def _columns(results: dict, spec: TableSpec) -> list[Column]:
    """The table's columns for the metrics of this run, then one column per extra metric output."""
    metrics = results.get("metrics", {})
    cols = []
    for c in spec.columns:
        if c.metric not in metrics:
            continue
        alt = metrics[c.metric].get("output_name")
        if alt and alt != c.output:  # an offline stand-in (fd_mobilenetv2 for FID): say so in the header
            c = dataclasses.replace(c, label=f"{c.label} ({alt})")
        cols.append(c)
    known = {c.metric for c in spec.columns}
    for name, meta in metrics.items():
        if name in known:
            continue
        outputs = sorted({o for sc in results.get("scores", {}).values() for o, cell in sc.items()
                          if cell.get("metric") == name})
        for out in outputs or [name]:
            cols.append(Column(name, out, out, bool(meta.get("higher_is_better", True)), 3))
    return cols


def build_view(results: dict, spec: Optional[TableSpec] = None, paper: Optional[PaperTable] = None) -> View:
    spec = spec or get_table(results["table"])
    if paper is None:
        paper = load_paper_table(spec.key)
    footnotes: list[str] = []

    def note(text: str) -> int:
        if text not in footnotes:
            footnotes.append(text)
        return footnotes.index(text) + 1

    columns = _columns(results, spec)
    ran = list(results.get("scores", {}))
    systems = ran + [r.system for r in spec.rows if r.in_paper and r.system not in ran and paper is not None
                     and any(paper.get(r.system, c.output) for c in columns)]
    in_spec = {(c.metric, c.output) for c in spec.columns}
    not_comp = {c.label: _comparability(results, spec, c) if (c.metric, c.output) in in_spec else None
                for c in columns}
    rows = []
    for system in systems:
        label = spec.row(system).label
        if label == system and paper is not None and system in paper.labels:
            label = paper.labels[system]
        placeholder = (results.get("systems", {}).get(system) or {}).get("placeholder")
        if placeholder:  # random-init weights (tests): marked, and no cell is comparable
            label = f"{label} [PLACEHOLDER]"
            note(f"{system}: PLACEHOLDER random-init weights ({', '.join(placeholder)}), never comparable")
        cells = []
        for col in columns:
            pv = paper.get(system, col.output) if paper else None
            if system not in ran:
                cells.append(Cell(col, None, None, None, paper=pv, run=False))
                continue
            out = _find_output(results, system, col)
            if out is None:
                meta = results.get("metrics", {}).get(col.metric)
                if meta is None:
                    reason = f"metric {col.metric} was not part of this run"
                else:
                    reason = meta.get("unavailable") or f"metric {col.metric} produced no {col.output}"
                cell = Cell(col, None, None, reason, paper=pv)
                cell.notes.append(note(reason))
                cells.append(cell)
                continue
            sc = results["scores"][system][out]
            cell = Cell(col, out, sc["value"], sc["reason"], sc["n"], sc["n_total"], sc["n_failed"], sc.get("ci95"),
                        paper=pv)
            if sc["value"] is None:
                cell.notes.append(note(f"{col.label}, {system}: {sc['reason']}"))
            elif sc["n"] < sc["n_total"]:
                cell.notes.append(note(f"n = {sc['n']}/{sc['n_total']}, {sc['n_total'] - sc['n']} failed: "
                                       "see items.jsonl"))
            clamped = ((results.get("details") or {}).get(system) or {}).get(col.metric, {}).get("clamped_from")
            if clamped is not None and sc["value"] is not None:  # a Fréchet distance below 0 by rounding
                cell.notes.append(note(f"{col.label}, {system}: computed as {clamped:.3g} (rounding below 0), "
                                       "reported as 0"))
            if (not_comp[col.label] or placeholder) and cell.value is not None:
                cell.comparable = False
            cells.append(cell)
        rows.append((system, label, cells))
    for col in columns:
        if not_comp[col.label]:
            note(f"{NOT_COMPARABLE} {col.label}: not comparable with the paper: {not_comp[col.label]}")
    paper_cols = {c.label for c in columns if paper is not None and paper.has_column(c.output)}
    if paper is not None and any(paper.get(s, c.output) and not paper.get(s, c.output).verified
                                 for s, _, _ in rows for c in columns):
        note(f"{UNVERIFIED} published value from an unverified secondary source")
    split = results.get("split", {})
    subtitle = (f"split {split.get('name')} (n = {split.get('n_items')}"
                f"{', limit ' + str(split['limit']) if split.get('limit') else ''}), run {results.get('run_id')}")
    skipped = results.get("systems_skipped") or {}
    for name, why in sorted(skipped.items()):
        note(f"system {name} not run: {why}")
    return View(spec, spec.title, subtitle, columns, paper_cols, rows, footnotes)


def _fmt(value: Optional[float], decimals: int, sign: bool = False) -> str:
    if value is None:
        return ""
    text = f"{value:+.{decimals}f}" if sign else f"{value:.{decimals}f}"
    if text.lstrip("+-").strip("0.") == "":  # -0.00 / +0.00: rounding noise around zero
        text = ("+" if sign else "") + text.lstrip("+-")
    return text


def _ours_text(cell: Cell) -> str:
    if not cell.run:
        return "not run"
    marks = ("" if cell.comparable else NOT_COMPARABLE) + "".join(f"[{n}]" for n in cell.notes)
    if cell.value is None:
        return f"{MISSING}{marks}"
    if cell.column.show_ci and cell.ci95:
        half = (cell.ci95[1] - cell.ci95[0]) / 2
        return f"{_fmt(cell.value, cell.column.decimals)} ± {_fmt(half, cell.column.decimals)}{marks}"
    return f"{_fmt(cell.value, cell.column.decimals)}{marks}"


def _paper_text(cell: Cell) -> str:
    if cell.paper is None:
        return ""
    return _fmt(cell.paper.value, cell.column.decimals) + ("" if cell.paper.verified else UNVERIFIED)


def _header(view: View, arrows: bool = True) -> list[str]:
    head = ["System"]
    for col in view.columns:
        arrow = ("↑" if col.higher_is_better else "↓") if arrows else ""
        head.append(f"{col.label}{arrow}")
        if col.label in view.paper_columns:
            head += [f"{col.label} (paper)", "Δ"]
    return head


def _body(view: View) -> list[list[str]]:
    rows = []
    for _system, label, cells in view.rows:
        line = [label]
        for cell in cells:
            line.append(_ours_text(cell))
            if cell.column.label in view.paper_columns:
                line += [_paper_text(cell), _fmt(cell.delta, cell.column.decimals, sign=True)]
        rows.append(line)
    return rows


def render_md(view: View) -> str:
    """Markdown; every interpolated text is escaped (:func:`ttsf.inputs.md_text`): no raw
    HTML, links or broken rows from system names, reasons or paths."""
    head = _header(view)
    esc = md_text
    lines = [f"**{esc(view.title)}**", "", f"_{esc(view.subtitle)}_", "",
             "| " + " | ".join(esc(h) for h in head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for row in _body(view):
        lines.append("| " + " | ".join(esc(c) for c in row) + " |")
    if view.footnotes:
        lines.append("")
        lines += [f"[{i}] {esc(t)}  " for i, t in enumerate(view.footnotes, 1)]
    return "\n".join(lines) + "\n"


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "↑": r"$\uparrow$", "↓": r"$\downarrow$", "Δ": r"$\Delta$", "—": "--", "†": r"$^\dagger$",
                "±": r"$\pm$", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
                "\n": " ", "\r": " "}


def tex_escape(text: str) -> str:
    """LaTeX-safe text: every special character (``\\ & % $ # _ { } ~ ^ < > |``) escaped."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def render_tex(view: View) -> str:
    head = _header(view)
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             r"\begin{tabular}{l" + "r" * (len(head) - 1) + "}", r"\toprule",
             " & ".join(tex_escape(h) for h in head) + r" \\", r"\midrule"]
    for row in _body(view):
        lines.append(" & ".join(tex_escape(c) for c in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}",
              r"\caption{" + tex_escape(f"{view.title}. {view.subtitle}.") + "}"]
    if view.footnotes:
        lines.append(r"\par\footnotesize "
                     + r" \\ ".join(tex_escape(f"[{i}] {t}") for i, t in enumerate(view.footnotes, 1)))
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


CSV_FIELDS = ("system", "label", "column", "output", "value", "n", "n_total", "n_failed", "ci95_low", "ci95_high",
              "reason", "comparable", "paper_value", "paper_provenance", "delta")


def render_csv(view: View) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for system, label, cells in view.rows:
        for c in cells:
            ci = c.ci95 or [None, None]
            w.writerow([csv_cell(v) for v in [system, label, c.column.label, c.output or "",
                        "" if c.value is None else repr(c.value), c.n, c.n_total, c.n_failed,
                        "" if ci[0] is None else repr(ci[0]), "" if ci[1] is None else repr(ci[1]),
                        ("not run" if not c.run else (c.reason or "")), c.comparable,
                        "" if c.paper is None else repr(c.paper.value), "" if c.paper is None else c.paper.provenance,
                        "" if c.delta is None else repr(c.delta)]])
    return buf.getvalue()


RENDERERS = {"md": render_md, "tex": render_tex, "csv": render_csv}


def render(results: dict, fmt: str = "md", spec: Optional[TableSpec] = None) -> str:
    if fmt not in RENDERERS:
        from ttsf.names import UnknownName

        raise UnknownName("format", fmt, list(RENDERERS))
    return RENDERERS[fmt](build_view(results, spec))


def write_tables(results: dict, run_dir: Path) -> dict[str, Path]:
    """Write ``table<N>.{md,tex,csv}`` into the run folder; returns the paths."""
    from ttsf.atomic import atomic_write_text

    view = build_view(results)
    out = {}
    for fmt, fn in RENDERERS.items():
        out[fmt] = atomic_write_text(Path(run_dir) / f"table{results['table']}.{fmt}", fn(view))
    return out
