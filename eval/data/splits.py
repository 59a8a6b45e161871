"""The fixed evaluation splits: definitions, builders, checksums and loading.

Committed split files live in ``splits/`` and are listed in ``splits/SHA256SUMS``;
:func:`load_split` refuses a committed file whose hash does not match. The
synthetic corpus's splits live inside the corpus (built on demand).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Optional

from eval.data import roots
from eval.data.selection import seeded_choice, seeded_subset
from ttsf.atomic import atomic_write_text
from ttsf.data.manifest import Item, Manifest, ManifestError, Source, load_manifest, write_manifest
from ttsf.hashing import sha256_file  # noqa: F401  (re-exported: splits.sha256_file)

REPO = Path(__file__).resolve().parents[2]


def splits_dir() -> Path:
    """``$TTSF_SPLITS_DIR`` or the repository's ``splits/``."""
    return Path(os.environ.get("TTSF_SPLITS_DIR", REPO / "splits"))


LRS2_LIST = "lists/lrs2_test.txt"
LRS2_LIST_SHA256 = "234db513acf63950e47fcdf8a06539418379e640804e807c39f6bf6af0096d16"
LRS2_SUBSET_SIZE = 500
LRS2_SUBSET_SEED = "ttsf-bench/lrs2_test_subset/v1"
VOX2_IDS = "lists/vox2_test_ids.txt"
VOX2_SEED = "ttsf-bench/vox2_test/v1"
VOX2_RULE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class SplitDef:
    name: str
    dataset: str  # key of eval.data.roots.SUBFOLDERS, or "synth"
    filename: Optional[str]  # file in splits/ (None: lives in the dataset root)
    description: str


SPLITS = {
    s.name: s
    for s in (
        SplitDef("lrs2_test", "lrs2", "lrs2_test.jsonl", "LRS2 test, all 1,243 official ids"),
        SplitDef("lrs2_test_subset", "lrs2", "lrs2_test_subset.jsonl",
                 f"LRS2 test, fixed seeded subset of {LRS2_SUBSET_SIZE} ids (the paper's 'random subset')"),
        SplitDef("vox2_test", "vox2", "vox2_test.jsonl",
                 "VoxCeleb2 test, one clip per test identity with a seeded LRS3 transcript (frozen by `freeze vox2`)"),
        SplitDef("synth_test", "synth", None, "bundled synthetic corpus, test split (unseen sentences and identities)"),
        SplitDef("synth_train", "synth", None, "bundled synthetic corpus, train split"),
    )
}
# LRS3 manifests (training data and LRS3 test): frozen from local data into DIR/lrs3/ by
# `python -m eval.splits freeze lrs3` (eval/data/lrs3.py), checked against lrs3_freeze.json.
SPLITS.update({
    name: SplitDef(name, "lrs3", None, f"LRS3 {' + '.join(sets)} (frozen from local data into DIR/lrs3/{name}.jsonl)")
    for name, sets in (("lrs3_pretrain", ("pretrain",)), ("lrs3_trainval", ("trainval",)), ("lrs3_test", ("test",)),
                       ("lrs3_pretrain_trainval", ("pretrain", "trainval")))
})


def split_def(name: str) -> SplitDef:
    from eval.data import folder

    if folder.is_dir_split(name):  # a folder of the user's clips (eval/data/folder.py)
        return SplitDef(name, folder.DATASET, None, f"clips in {folder.split_path(name)} (one item per video file)")
    if name not in SPLITS:
        from ttsf.names import UnknownName

        raise UnknownName("split", name, list(SPLITS))
    return SPLITS[name]


# ----------------------------------------------------------------------------- checksums


def read_checksums(directory: Optional[Path] = None) -> dict[str, str]:
    directory = directory or splits_dir()
    path = directory / "SHA256SUMS"
    out = {}
    if path.exists():
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                digest, _, name = line.partition("  ")
                out[name.strip()] = digest.strip()
    return out


def write_checksums(directory: Optional[Path] = None) -> dict[str, str]:
    """Rewrite ``SHA256SUMS`` for every list and manifest in the splits folder."""
    directory = directory or splits_dir()
    files = sorted(
        str(p.relative_to(directory))
        for p in directory.rglob("*")
        if p.is_file() and p.suffix in (".jsonl", ".txt", ".csv", ".json") and not p.name.startswith(".")
    )
    sums = {f: sha256_file(directory / f) for f in files}
    body = "".join(f"{sums[f]}  {f}\n" for f in files)
    atomic_write_text(directory / "SHA256SUMS", body)
    return sums


def verify_file(relname: str, directory: Optional[Path] = None) -> str:
    """sha256 of a committed split file, checked against SHA256SUMS."""
    directory = directory or splits_dir()
    path = directory / relname
    if not path.exists():
        raise ManifestError(f"split file {path} does not exist")
    expected = read_checksums(directory).get(relname)
    actual = sha256_file(path)
    if expected is None:
        raise ManifestError(f"{relname} is not listed in {directory / 'SHA256SUMS'}")
    if actual != expected:
        raise ManifestError(
            f"{path} has sha256 {actual} but SHA256SUMS says {expected}: the split was modified. "
            "Restore it, or if the change is intended run `python -m eval.splits checksums`."
        )
    return actual


# ----------------------------------------------------------------------------- LRS2


def lrs2_ids(directory: Optional[Path] = None) -> list[tuple[str, str]]:
    """The official LRS2 test list as ``[(id, NF|MV)]``, verified against its published hash."""
    directory = directory or splits_dir()
    path = directory / LRS2_LIST
    if sha256_file(path) != LRS2_LIST_SHA256:
        raise ManifestError(f"{path} does not match the official LRS2 test list (sha256 {LRS2_LIST_SHA256})")
    rows = []
    for line in path.read_text("ascii").splitlines():
        ident, tag = line.split()
        rows.append((ident, tag))
    return rows


def lrs2_item(ident: str, tag: str) -> Item:
    return Item(
        id=ident, dataset="lrs2", speaker=None, text=None, text_source=f"main/{ident}.txt",
        source=Source(f"main/{ident}.mp4", 0), ref_video=f"main/{ident}.mp4", ref_audio=f"main/{ident}.mp4",
        duration=None, meta={"lrs2_tag": tag},
    )


def build_lrs2(directory: Optional[Path] = None) -> dict[str, str]:
    """(Re)write ``lrs2_test.jsonl`` and ``lrs2_test_subset.jsonl`` from the official list."""
    directory = directory or splits_dir()
    rows = lrs2_ids(directory)
    items = [lrs2_item(i, t) for i, t in rows]
    chosen = set(seeded_subset([i for i, _ in rows], LRS2_SUBSET_SIZE, LRS2_SUBSET_SEED))
    return {
        "lrs2_test": write_manifest(directory / "lrs2_test.jsonl", items),
        "lrs2_test_subset": write_manifest(directory / "lrs2_test_subset.jsonl",
                                           [it for it in items if it.id in chosen]),
    }


# ----------------------------------------------------------------------------- VoxCeleb2


def vox2_test_ids(directory: Optional[Path] = None) -> list[str]:
    directory = directory or splits_dir()
    return (directory / VOX2_IDS).read_text("ascii").split()


def lrs3_test_transcripts(lrs3_root: Path) -> list[str]:
    """Sorted relative paths ``test/<spk>/<clip>.txt`` of the local LRS3 test set."""
    base = lrs3_root / "test"
    if not base.is_dir():
        raise roots.DataRootError(f"LRS3 test transcripts not found under {base}")
    return sorted(str(p.relative_to(lrs3_root)) for p in base.glob("*/*.txt"))


def freeze_vox2(data_root: os.PathLike | str, out: Optional[Path] = None, directory: Optional[Path] = None) -> dict:
    """Apply the committed VoxCeleb2 selection rule to local data; write the frozen manifest.

    Rule (version 1): for each test identity in ``lists/vox2_test_ids.txt`` (sorted),
    list ``vox2_test_mp4/mp4/<identity>/*/*.mp4`` (sorted relative paths) and pick one by
    ``seeded_choice(paths, f"{VOX2_SEED}:clip:{identity}")``; source frame 0; the
    transcript is the LRS3 test ``.txt`` chosen by ``seeded_choice(sorted LRS3 test
    transcripts, f"{VOX2_SEED}:text:{clip id}")``. Identities with no local clips are
    reported (the VoxCeleb2 paper says 118 test identities, the metadata lists 120).
    """
    from ttsf.data.manifest import parse_lrs_text

    directory = directory or splits_dir()
    vox = roots.dataset_root("vox2", data_root)
    lrs3 = roots.dataset_root("lrs3", data_root)
    transcripts = lrs3_test_transcripts(lrs3)
    if not transcripts:
        raise roots.DataRootError(f"no LRS3 test transcripts under {lrs3 / 'test'}")
    items, missing = [], []
    for identity in vox2_test_ids(directory):
        clips = sorted(str(p.relative_to(vox)) for p in (vox / "vox2_test_mp4" / "mp4" / identity).glob("*/*.mp4"))
        if not clips:
            missing.append(identity)
            continue
        rel = seeded_choice(clips, f"{VOX2_SEED}:clip:{identity}")
        clip_id = str(Path(rel).relative_to("vox2_test_mp4/mp4").with_suffix(""))
        text_rel = seeded_choice(transcripts, f"{VOX2_SEED}:text:{clip_id}")
        text = parse_lrs_text((lrs3 / text_rel).read_text("utf-8"))
        aac = Path("vox2_test_aac/aac") / f"{clip_id}.m4a"
        ref_audio = str(aac) if (vox / aac).exists() else rel
        hashes = {"source": sha256_file(vox / rel), "lrs3_text": sha256_file(lrs3 / text_rel)}
        if ref_audio != rel:
            hashes["ref_audio"] = sha256_file(vox / ref_audio)
        items.append(Item(
            id=clip_id, dataset="vox2", speaker=identity, text=text, text_source=None,
            source=Source(rel, 0), ref_video=rel, ref_audio=ref_audio, duration=None,
            meta={"text_from": f"lrs3/{text_rel}", "sha256": hashes, "rule_version": VOX2_RULE_VERSION},
        ))
    if not items:
        raise roots.DataRootError(f"no VoxCeleb2 test clips found under {vox / 'vox2_test_mp4' / 'mp4'}")
    out = out or directory / "vox2_test.jsonl"
    digest = write_manifest(out, items)
    report = {
        "split": "vox2_test", "file": str(out), "sha256": digest, "rule_version": VOX2_RULE_VERSION,
        "seed": VOX2_SEED, "identities_listed": len(vox2_test_ids(directory)), "identities_found": len(items),
        "identities_missing": missing, "lrs3_transcripts": len(transcripts),
    }
    (out.with_suffix(".freeze.json")).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", "utf-8")
    if out.parent.resolve() == directory.resolve():
        write_checksums(directory)
    return report


# ----------------------------------------------------------------------------- loading


def split_manifest(name: str, data_root: Optional[os.PathLike | str] = None) -> Manifest:
    """A split's manifest, checksum-verified (synthetic splits: read from the corpus)."""
    spec = split_def(name)
    if spec.dataset == "synth":
        return load_manifest(synth_root(data_root) / f"{name}.jsonl", name)
    if spec.dataset == "lrs3" and spec.filename is None:
        from eval.data.lrs3 import load_lrs3_manifest

        return load_lrs3_manifest(name, data_root)
    if spec.dataset == "dir":
        from eval.data.folder import load_dir_split

        return load_dir_split(name)[0]
    path = splits_dir() / spec.filename
    if not path.exists() and name == "vox2_test":
        raise ManifestError(
            "splits/vox2_test.jsonl is not frozen yet: run `python -m eval.splits freeze vox2 --data-root DIR` "
            "on a machine with VoxCeleb2 test and LRS3 test"
        )
    verify_file(spec.filename)
    return load_manifest(path, name)


def synth_root(data_root: Optional[os.PathLike | str] = None) -> Path:
    """The synthetic corpus folder: ``data_root`` itself, else the default corpus (built on demand)."""
    if data_root is not None:
        return Path(data_root)
    from eval.synth import default_corpus

    return default_corpus("default")


def split_root(name: str, data_root: Optional[os.PathLike | str] = None) -> Path:
    """The folder a split's relative paths start from (raises DataRootError when unknown)."""
    spec = split_def(name)
    if spec.dataset == "synth":
        return synth_root(data_root)
    if spec.dataset == "dir":
        from eval.data.folder import split_path

        path = split_path(name)
        return path.parent if path.suffix == ".jsonl" else path
    return roots.dataset_root(spec.dataset, data_root, must_exist=False)


def load_split(name: str, data_root: Optional[os.PathLike | str] = None) -> tuple[Manifest, Path]:
    """A split's manifest (checksum-verified) and the dataset root its paths are relative to.

    For the synthetic splits ``data_root`` is the corpus folder; without it the
    default corpus is built on demand (cached).
    """
    if split_def(name).dataset == "dir":
        from eval.data.folder import load_dir_split

        return load_dir_split(name)
    root = split_root(name, data_root)
    return split_manifest(name, root if split_def(name).dataset == "synth" else data_root), root
