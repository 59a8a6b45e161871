"""Specifications of the paper's Tables 1–5 and Figure 5 (rows, columns, splits).

A table is data: which systems are its rows, which metric outputs its columns, which
split it uses with and without a data root. Rendering (:mod:`eval.tables.render`) and
the paper's published numbers (``paper_tables/``) are kept apart from these specs.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from ttsf.names import UnknownName


@dataclasses.dataclass(frozen=True)
class Column:
    """One table column: a metric output.

    metric: metric registry name (``lse``); output: key of its ``compute()`` result (``lse_c``).
    """

    metric: str
    output: str
    label: str
    higher_is_better: bool
    decimals: int = 3
    show_ci: bool = False  # print "value ± half-width" (MOS)


@dataclasses.dataclass(frozen=True)
class Row:
    """One table row: a system (registry name) and its label in the paper."""

    system: str
    label: str
    in_paper: bool = True


@dataclasses.dataclass(frozen=True)
class TableSpec:
    key: str  # "1" … "5", "fig5"
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    paper_split: Optional[str]  # split used with --data-root
    synth_split: Optional[str]  # split used without a data root
    paper_dataset: str  # dataset of the paper's numbers (for "not comparable" marks)
    #: systems run without --systems on the synthetic corpus (those not ready are skipped, with the reason)
    default_systems_synth: tuple[str, ...] = ("gt", "still", "ttsf")
    kind: str = "metrics"  # "metrics", "mos" or "figure"
    note: str = ""

    def metrics(self) -> list[str]:
        seen: list[str] = []
        for c in self.columns:
            if c.metric not in seen:
                seen.append(c.metric)
        return seen

    def row(self, system: str) -> Row:
        for r in self.rows:
            if r.system == system:
                return r
        return Row(system, system, in_paper=False)

    def default_systems(self, synthetic: bool) -> list[str]:
        if synthetic:
            return list(self.default_systems_synth)
        return [r.system for r in self.rows if r.in_paper]


FID = Column("fid", "fid", "FID", False, 2)
IDSIM = Column("idsim", "idsim", "ID-SIM", True, 3)
LSE_C = Column("lse", "lse_c", "LSE-C", True, 3)
LSE_D = Column("lse", "lse_d", "LSE-D", False, 3)
DIVERSITY = Column("diversity", "diversity", "Diversity", True, 3)
WER = Column("wer", "wer", "WER (%)", False, 2)
MCD = Column("mcd", "mcd", "MCD", False, 2)
CSIM = Column("csim", "csim", "C-SIM", True, 3)
F0 = Column("f0_rmse", "f0_rmse", "F0 RMSE", False, 2)

_VIDEO_ROWS = (
    Row("gt", "GT"),
    Row("makeittalk", "MakeItTalk (GT audio)"),
    Row("makeittalk-tts", "MakeItTalk (TTS)"),
    Row("audio2head", "Audio2Head (GT audio)"),
    Row("audio2head-tts", "Audio2Head (TTS)"),
    Row("sadtalker", "SadTalker (GT audio)"),
    Row("sadtalker-tts", "SadTalker (TTS)"),
    Row("ttsf", "TTSF (ours)"),
    Row("still", "Still image, GT audio (lower bound)", in_paper=False),
    Row("still-tts", "Still image, TTS audio (lower bound)", in_paper=False),
)

TABLES: dict[str, TableSpec] = {
    t.key: t
    for t in (
        TableSpec("1", "Table 1: one-shot talking faces on LRS2", (FID, IDSIM, LSE_C, DIVERSITY), _VIDEO_ROWS,
                  "lrs2_test_subset", "synth_test", "lrs2"),
        TableSpec("2", "Table 2: one-shot talking faces on VoxCeleb2 (LRS3 transcripts)",
                  (FID, IDSIM, LSE_C, DIVERSITY),
                  tuple(r for r in _VIDEO_ROWS if r.system in ("gt", "makeittalk-tts", "audio2head-tts",
                                                                "sadtalker-tts", "ttsf", "still", "still-tts")),
                  "vox2_test", "synth_test", "vox2"),
        TableSpec("3", "Table 3: synthesised speech on LRS2", (WER, MCD, CSIM, F0),
                  (Row("gt", "Ground Truth"), Row("facetts", "Face-TTS"), Row("ttsf-tts-wmotion", "Ours w/ motion"),
                   Row("ttsf-tts", "Ours w/o motion"), Row("still", "Reference speech (harness check)", in_paper=False),
                   Row("still-tts", "TTS speech (still)", in_paper=False)),
                  "lrs2_test_subset", "synth_test", "lrs2", default_systems_synth=("gt", "still", "ttsf-tts")),
        TableSpec("4", "Table 4: MOS (1-5, 95% CI), lip sync / realness / head motion",
                  (Column("mos", "lip_sync", "Lip sync", True, 2, True),
                   Column("mos", "realness", "Realness", True, 2, True),
                   Column("mos", "head_motion", "Head motion", True, 2, True)),
                  (Row("makeittalk-tts", "MakeItTalk"), Row("audio2head-tts", "Audio2Head"),
                   Row("sadtalker-tts", "SadTalker"), Row("ttsf", "Ours")),
                  "lrs2_test_subset", None, "lrs2", default_systems_synth=(), kind="mos",
                  note="needs human ratings: `python -m eval.mos packets`, then `eval.run --table 4 --mos ANSWERS_DIR` "
                       "(docs/mos.md)"),
        TableSpec("5", "Table 5: audio-mapper feature aggregation (ablation)", (FID, IDSIM, LSE_C, LSE_D),
                  (Row("ttsf-mapper-et", "w/o (energy & f~t): e_t only"),
                   Row("ttsf-mapper-et-ft", "w/o energy: e_t + f~t"),
                   Row("ttsf", "Ours: e_t + f~t + energy")),
                  "lrs2_test_subset", "synth_test", "lrs2",
                  default_systems_synth=("gt", "ttsf-mapper-et", "ttsf-mapper-et-ft", "ttsf"),
                  note="the paper's Table 5 columns are not in its text; sync and quality columns assumed"),
        TableSpec("fig5", "Figure 5: t-SNE of x-vectors of synthesised speech, coloured by speaker",
                  (Column("eval.tables.figure5:SpeakerEmbedding", "n_embedded", "utterances embedded", True, 0),),
                  (Row("facetts", "Face-TTS"), Row("ttsf-tts", "Ours")),
                  "lrs2_test_subset", "synth_test", "lrs2", default_systems_synth=("gt", "ttsf-tts"), kind="figure",
                  note="writes figure5.png (t-SNE) and the silhouette score by speaker"),
    )
}


def get_table(key: str) -> TableSpec:
    key = str(key)
    if key.lower().startswith("table"):
        key = key[5:].strip()
    if key not in TABLES:
        raise UnknownName("table", key, list(TABLES))
    return TABLES[key]
