"""Score single files or folders with one metric.

    python -m eval.metrics NAME [--backend B] --gen PATH [--ref PATH]
                               [--text STR | --text-file F] [--option KEY=VALUE ...] [--json]

Inputs by metric: ``fid`` folders of videos (``--gen`` vs ``--ref``); ``lse`` and
``diversity`` a video (or folder of videos); ``idsim`` a video plus ``--ref`` identity
image; ``mcd``/``csim``/``f0_rmse`` generated vs reference speech (wav/flac, or videos
with an audio track); ``wer`` generated speech plus ``--text``/``--text-file``.
Folders are paired by file stem (files without a partner are scored as failed items);
where a stem has both a video and an audio file, audio metrics use the audio file and
visual metrics the video. In folder mode the text of ``<stem>`` is read from
``<stem>.txt`` beside the generated or reference file (plain, or LRS style ``Text:``). Prints the value(s),
the backend (and whether it is comparable to the paper), the weights hash, n, and every per-item failure
with its reason; ``--json`` adds the
provenance (git commit, package versions, Python, platform) so the number can be reproduced.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any, Optional

from eval.metrics.base import ItemError
from eval.metrics.sample import Sample
from ttsf.inputs import InputError, check_device, finite_or_none, input_file, strict_json
from ttsf.weights.errors import MissingWeights

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


class UsageError(InputError):
    """Inputs that do not fit the metric (printed, exit code 2)."""


def _broken_link(path: Path) -> bool:
    return path.is_symlink() and not path.exists()


def _media_files(folder: Path, prefer: str) -> dict[str, Path]:
    """stem -> file; where a stem has both audio and video, the ``prefer``red kind wins.

    Broken symbolic links are kept (their items fail with the reason, never vanish).
    """
    order = (AUDIO_SUFFIXES, VIDEO_SUFFIXES) if prefer == "audio" else (VIDEO_SUFFIXES, AUDIO_SUFFIXES)
    out: dict[str, Path] = {}
    try:
        listing = sorted(folder.iterdir())
    except OSError as exc:
        raise UsageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    for suffixes in order:
        kind: dict[str, Path] = {}
        for path in (p for p in listing if (p.is_file() or _broken_link(p)) and p.suffix.lower() in suffixes):
            if path.stem in kind:
                raise UsageError(f"two files with stem {path.stem!r} in {folder}: {kind[path.stem].name}, {path.name}")
            kind[path.stem] = path
        for stem, path in kind.items():
            out.setdefault(stem, path)
    return dict(sorted(out.items()))


def _field(path: Path, side: str) -> str:
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return f"{side}_video"
    if suffix in AUDIO_SUFFIXES:
        return f"{side}_audio"
    if suffix in IMAGE_SUFFIXES:
        return "source_image"
    raise UsageError(f"unsupported file type {suffix!r}: {path}")


def _read_text(path: Path) -> str:
    """A transcript file: plain text, or LRS style (the ``Text:`` line).

    Raises :class:`ItemError` (code ``bad_text``, naming the file) when it cannot be
    read or is not UTF-8.
    """
    from ttsf.data.manifest import parse_lrs_text

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ItemError(f"cannot read transcript {path}: {exc.strerror or exc}", code="bad_text") from exc
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ItemError(f"transcript {path} is not UTF-8 ({exc.reason} at byte {exc.start})",
                        code="bad_text") from exc
    return parse_lrs_text(content)


def build_samples(spec: Any, gen: Path, ref: Optional[Path], text: Optional[str],
                  failed: Optional[dict[str, ItemError]] = None) -> list[Sample]:
    """Samples for ``gen`` (file or folder) and ``ref`` (file, folder or image).

    Folders pair by stem; for corpus-level unpaired metrics (FID) folders whose stems do
    not overlap are paired by sorted position instead. A ``<stem>.txt`` that cannot be
    read is recorded in ``failed`` (item id -> :class:`ItemError`), not raised.
    """
    if not gen.exists():
        raise UsageError(f"--gen does not exist: {gen}")
    if ref is not None and not ref.exists():
        raise UsageError(f"--ref does not exist: {ref}")
    prefer = "video" if any(n.endswith("_video") for n in spec.needs) else "audio"
    if gen.is_file():
        sample = Sample(gen.stem, text=text)
        setattr(sample, _field(gen, "gen"), gen)
        if ref is not None:
            if ref.is_dir():
                raise UsageError("--gen is a file but --ref is a folder")
            setattr(sample, _field(ref, "ref"), ref)
        return [sample]
    if ref is not None and ref.is_file():
        if ref.suffix.lower() not in IMAGE_SUFFIXES:
            raise UsageError("--gen is a folder: --ref must be a folder (or an identity image)")
    gen_files = _media_files(gen, prefer)
    ref_files = _media_files(ref, prefer) if ref is not None and ref.is_dir() else {}
    if not gen_files:
        raise UsageError(f"no audio/video files in {gen}")
    unpaired = spec.level == "corpus" and "text" not in spec.needs
    pair_by_index = unpaired and bool(ref_files) and not (set(gen_files) & set(ref_files))
    samples = []
    if pair_by_index:  # unpaired sets (FID): n-th generated with n-th reference
        gen_list, ref_list = list(gen_files.values()), list(ref_files.values())
        for i in range(max(len(gen_list), len(ref_list))):
            sample = Sample(f"{i:05d}")
            if i < len(gen_list):
                setattr(sample, _field(gen_list[i], "gen"), gen_list[i])
            if i < len(ref_list):
                setattr(sample, _field(ref_list[i], "ref"), ref_list[i])
            samples.append(sample)
        return _mark_broken(samples, [*gen_list, *ref_list], failed)
    for stem in sorted(set(gen_files) | set(ref_files)):
        sample = Sample(stem, text=text)
        if stem in gen_files:
            setattr(sample, _field(gen_files[stem], "gen"), gen_files[stem])
        if stem in ref_files:
            setattr(sample, _field(ref_files[stem], "ref"), ref_files[stem])
        if ref is not None and ref.is_file():
            sample.source_image = ref
        if sample.text is None and "text" in spec.needs:
            for folder in (gen, ref if ref is not None and ref.is_dir() else None):
                if folder is not None and (folder / f"{stem}.txt").is_file():
                    try:
                        sample.text = _read_text(folder / f"{stem}.txt")
                    except ItemError as error:
                        if failed is None:
                            raise
                        failed[stem] = error
                    break
        samples.append(sample)
    return _mark_broken(samples, [*gen_files.values(), *ref_files.values()], failed)


def _mark_broken(samples: list[Sample], files: list[Path], failed: Optional[dict[str, ItemError]]) -> list[Sample]:
    """Record items whose file is a broken symbolic link as failed (or raise without ``failed``)."""
    broken = {p for p in files if _broken_link(p)}
    for sample in samples:
        for field in ("gen_video", "gen_audio", "ref_video", "ref_audio"):
            path = getattr(sample, field, None)
            if path in broken:
                error = ItemError(f"{field} {path} is a broken symbolic link (to {os.readlink(path)})",
                                  code="missing_file")
                if failed is None:
                    raise UsageError(error.reason)
                failed.setdefault(sample.id, error)
    return samples


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--option must look like KEY=VALUE, got {text!r}")
    for cast in (int, float):
        try:
            number = cast(value)
        except ValueError:
            continue
        if isinstance(number, float) and not math.isfinite(number):
            raise UsageError(f"--option {key}={value}: must be a finite number")
        return key, number
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    return key, value


_clean = finite_or_none  # JSON-safe value: NaN/inf become None (the reason is reported beside it)


def _check_text(text: Optional[str], what: str) -> Optional[str]:
    from ttsf.data.manifest import MAX_TEXT_CHARS

    if text is None:
        return None
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raise UsageError(f"{what} is not valid UTF-8")
    if not text.strip():
        raise UsageError(f"{what} is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(f"{what} has {len(text)} characters, more than the limit of {MAX_TEXT_CHARS}")
    return text


def score(name: str, backend: Optional[str], samples: list[Sample], device: str = "cpu",
          failed: Optional[dict[str, ItemError]] = None, **options: Any) -> dict:
    """Run metric ``name`` over ``samples``; per-item failures are recorded, not raised.

    ``failed`` maps item ids whose inputs could not be read to their error: those items
    are reported as failures without being scored.
    """
    from eval.metrics import create
    from eval.results import provenance

    try:
        metric = create(name, backend=backend, device=device, **options)
    except (TypeError, ValueError) as exc:  # an option of the wrong type or value (e.g. runtime=foo)
        raise UsageError(f"metric {name}: bad --option value(s) {options}: {exc}") from exc
    items, failures = [], []
    for sample in samples:
        try:
            if failed and sample.id in failed:
                raise failed[sample.id]
            values = metric.update(sample)
            items.append({"id": sample.id, "values": dict(values or {}), "notes": list(sample.notes)})
        except ItemError as error:
            failures.append({"id": sample.id, "error": error.reason, "code": error.code})
    values: dict[str, Any] = {}
    reason = None
    try:
        values = dict(metric.compute())
    except ItemError as error:  # no item scored: every output is missing (None, never 0), with the reason
        reason = error.reason
        values = {out: None for out in (metric.spec.outputs or (name,))}
    info = dict(getattr(metric, "info", {}) or {})
    if info.get("weights_sha256") is None:
        info["weights_sha256"] = getattr(metric, "weights_sha256", None)
    info.setdefault("weights", list(metric.backend.weights))
    missing = {k: (reason or "no item could be scored") for k, v in values.items()
               if isinstance(v, float) and not math.isfinite(v)}
    if reason is not None:
        missing = {out: reason for out in (metric.spec.outputs or (name,))}
    return {
        "metric": name,
        "version": metric.spec.version,
        "backend": metric.backend.name,
        "output_name": metric.backend.output_name or name,
        "paper_comparable": metric.backend.paper,
        "unit": metric.spec.unit,
        "higher_is_better": metric.spec.higher_is_better,
        "values": values,
        "missing": missing,
        "provenance": provenance(device),
        "n_items": len(samples),
        "n_scored": len(items),
        "n_failed": len(failures),
        "info": info,
        "items": items,
        "failures": failures,
    }


def format_text(result: dict) -> str:
    lines = []
    comparable = "paper backend" if result["paper_comparable"] else "offline backend, NOT comparable to the paper"
    lines.append(f"{result['output_name']} ({result['metric']} v{result['version']}, "
                 f"backend {result['backend']}: {comparable})")
    for key, value in result["values"].items():
        if key in result["missing"]:
            lines.append(f"  {key}: missing ({result['missing'][key]})")
        else:
            lines.append(f"  {key}: {value:.6g}" if isinstance(value, float) else f"  {key}: {value}")
    for key, reason in result["missing"].items():
        if key not in result["values"]:
            lines.append(f"  {key}: missing ({reason})")
    options = result["info"].get("options")
    if options:
        lines.append("  options: " + ", ".join(f"{k}={v}" for k, v in sorted(options.items())))
    sha = result["info"].get("weights_sha256")
    if sha:
        lines.append(f"  weights sha256: {sha}")
    elif result["info"].get("weights"):
        lines.append("  weights sha256: not recorded by this metric")
    else:
        lines.append("  weights sha256: none (no learned weights)")
    lines.append(f"  items: {result['n_scored']} scored, {result['n_failed']} failed of {result['n_items']}")
    for item in result["items"]:
        for note in item.get("notes") or []:
            lines.append(f"  note {item['id']}: {note}")
    for failure in result["failures"]:
        lines.append(f"  FAILED {failure['id']}: [{failure['code']}] {failure['error']}")
    for warning in result["info"].get("warnings", []) or []:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.metrics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="metric name (fid, idsim, lse, diversity, wer, mcd, csim, f0_rmse)")
    parser.add_argument("--backend", default=None, help="backend name (default: the paper backend)")
    parser.add_argument("--gen", type=Path, required=True, help="generated file or folder")
    parser.add_argument("--ref", type=Path, default=None, help="reference file/folder, or identity image (idsim)")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--text", default=None, help="reference transcript (wer)")
    text.add_argument("--text-file", type=Path, default=None, help="file holding the reference transcript (wer)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="metric option (repeatable)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true", help="print a JSON document instead of text")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from eval.metrics import REGISTRY
    from ttsf.names import UnknownName

    try:
        check_device(args.device)
        metric_cls = REGISTRY.get(args.name)
        try:
            if args.text_file is not None:
                input_file(args.text_file, "--text-file")
            transcript = _read_text(args.text_file) if args.text_file is not None else args.text
        except ItemError as error:
            raise UsageError(f"--text-file: {error.reason}") from error
        transcript = _check_text(transcript, "--text-file" if args.text_file is not None else "--text")
        failed: dict[str, ItemError] = {}
        samples = build_samples(metric_cls.spec, args.gen, args.ref, transcript, failed)
        options = dict(_parse_option(o) for o in args.option)
        result = score(args.name, args.backend, samples, device=args.device, failed=failed, **options)
    except (UnknownName, UsageError, MissingWeights, ImportError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(strict_json(result, indent=2, sort_keys=True, default=str))
    else:
        print(format_text(result))
    return 0 if not result["missing"] else 1


if __name__ == "__main__":
    sys.exit(main())
