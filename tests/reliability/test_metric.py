"""``python -m eval.metrics``: hostile and broken input refused; odd audio noted, broken links reported.

In-process against ``eval.metrics.cli.main``; refused cases fail before any item is scored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from eval.metrics.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(base_env, sandbox, tiny_corpus):
    media = sandbox / "media"
    for side, ident in (("gen", "id00"), ("ref", "id01")):
        (media / side).mkdir(parents=True)
        for stem in ("00000", "00001"):
            for suffix in (".wav", ".mp4"):
                shutil.copy(tiny_corpus / "main" / ident / f"{stem}{suffix}", media / side / f"{stem}{suffix}")
    (media / "only_text").mkdir()
    (media / "only_text" / "a.txt").write_text("hello")
    return {**base_env, "gen": str(media / "gen"), "ref": str(media / "ref"), "wav": str(media / "gen" / "00000.wav"),
            "mp4": str(media / "gen" / "00000.mp4"), "only_text": str(media / "only_text")}


MCD = ["mcd", "--gen", "{wav}", "--ref", "{wav}"]
FID = ["fid", "--gen", "{gen}", "--ref", "{ref}"]
WER = ["wer", "--gen", "{wav}"]


def _opt(base, value, pattern):
    return (f"{base[0]}-{value}"[:60], [*base, "--option", value], pattern)


OPTIONS = [
    _opt(FID, "bootstrap=nan", r"--option bootstrap=nan: must be a finite number"),
    _opt(FID, "bootstrap=inf", r"--option bootstrap=inf: must be a finite number"),
    _opt(FID, "bootstrap=-inf", r"--option bootstrap=-inf: must be a finite number"),
    _opt(FID, "bootstrap=1e400", r"--option bootstrap=1e400: must be a finite number"),
    _opt(FID, "bootstrap=-1", r"bootstrap must be an integer >= 0"),
    _opt(FID, "bootstrap=1.5", r"bootstrap must be an integer >= 0"),
    _opt(FID, "bootstrap=many", r"bootstrap must be an integer >= 0"),
    _opt(FID, "frame_stride=0", r"frame_stride: must be >= 1"),
    _opt(FID, "frame_stride=-2", r"frame_stride: must be >= 1"),
    _opt(FID, "frame_stride=nan", r"--option frame_stride=nan: must be a finite number"),
    _opt(FID, "frame_stride=abc", r"frame_stride: expected an integer"),
    _opt(FID, "batch_size=0", r"batch_size: must be >= 1"),
    _opt(FID, "batch_size=-5", r"batch_size: must be >= 1"),
    _opt(FID, "batch_size=2.5", r"batch_size: expected an integer"),
    _opt(MCD, "mode=nan", r"--option mode=nan: must be a finite number"),
    _opt(MCD, "mode=evil", r"mcd mode must be one of"),
    _opt(MCD, "nope=1", r"unknown option\(s\) \['nope'\] for metric mcd"),
    _opt(MCD, "novalue", r"--option must look like KEY=VALUE, got 'novalue'"),
    _opt(MCD, "=1", r"--option must look like KEY=VALUE, got '=1'"),
]

DEVICES = [
    ("device-cuda", [*MCD, "--device", "cuda"], r"--device cuda: no CUDA GPU is available"),
    ("device-cuda-7", [*MCD, "--device", "cuda:7"], r"--device cuda:7: "),
    ("device-tpu", [*MCD, "--device", "tpu"], r"--device 'tpu': expected cpu, cuda or cuda:K"),
    ("device-empty", [*MCD, "--device", ""], r"--device '': expected cpu, cuda or cuda:K"),
    ("csim-device-cuda", ["csim", "--backend", "resemblyzer", "--gen", "{wav}", "--ref", "{wav}", "--device", "cuda"],
     r"--device cuda: no CUDA GPU is available"),
]

TEXTS = [
    ("text-empty", [*WER, "--text", ""], r"--text is empty"),
    ("text-blank", [*WER, "--text", "  \n "], r"--text is empty"),
    ("text-not-utf8", [*WER, "--text", b"caf\xe9".decode("utf-8", "surrogateescape")], r"--text is not valid UTF-8"),
    ("text-too-long", [*WER, "--text", "word " * 1000], r"--text has 5000 characters, more than the limit of 2000"),
    ("text-file-missing", [*WER, "--text-file", "{missing}"], r"--text-file .*nothing.here does not exist"),
    ("text-file-dir", [*WER, "--text-file", "{empty}"], r"--text-file .*emptydir is a directory"),
    ("text-file-latin1", [*WER, "--text-file", "{latin1}"], r"--text-file: transcript .*latin1.txt is not UTF-8"),
    ("text-file-empty", [*WER, "--text-file", "{emptyfile}"], r"--text-file is empty"),
    ("text-file-broken-link", [*WER, "--text-file", "{broken}"],
     r"--text-file .*broken.link is a broken symbolic link"),
    ("text-and-text-file", [*WER, "--text", "a", "--text-file", "{notes}"], r"not allowed with argument --text"),
]

PATHS = [
    ("name-unknown", ["nope", "--gen", "{wav}"], r"unknown metric 'nope'"),
    ("name-traversal", ["../fid", "--gen", "{wav}"], r"unknown metric '../fid'"),
    ("backend-unknown", [*MCD, "--backend", "nope"], r"unknown backend of metric mcd 'nope'"),
    ("gen-missing", ["mcd", "--gen", "{missing}", "--ref", "{wav}"], r"--gen does not exist: .*nothing.here"),
    ("ref-missing", ["mcd", "--gen", "{wav}", "--ref", "{missing}"], r"--ref does not exist: .*nothing.here"),
    ("gen-broken-link", ["mcd", "--gen", "{broken}", "--ref", "{wav}"], r"--gen does not exist: .*broken.link"),
    ("gen-empty-dir", ["mcd", "--gen", "{empty}", "--ref", "{ref}"], r"no audio/video files in .*emptydir"),
    ("gen-no-media", ["mcd", "--gen", "{only_text}", "--ref", "{ref}"], r"no audio/video files in .*only_text"),
    ("gen-wrong-type", ["mcd", "--gen", "{notes}", "--ref", "{wav}"], r"unsupported file type '.txt': .*notes.txt"),
    ("gen-file-ref-dir", ["mcd", "--gen", "{wav}", "--ref", "{ref}"], r"--gen is a file but --ref is a folder"),
    ("gen-dir-ref-file", ["mcd", "--gen", "{gen}", "--ref", "{wav}"], r"--ref must be a folder"),
]


@pytest.mark.parametrize("c", OPTIONS + DEVICES + TEXTS + PATHS, ids=lambda c: c[0])
def test_refused(c, env, refused):
    if c[0] in ("device-cuda", "csim-device-cuda"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("a GPU is present: cuda is a valid device here")
    refused(main, c, env)


def _json(capsys, argv) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_broken_link_in_a_folder_is_a_failed_item_not_dropped(tmp_path, env, capsys):
    """Issue 18: in folder mode a broken symlink vanished from n_items without a word."""
    gen = tmp_path / "gen"
    gen.mkdir()
    shutil.copy(env["wav"], gen / "a.wav")
    (gen / "b.wav").symlink_to(tmp_path / "gone.wav")
    ref = tmp_path / "ref"
    ref.mkdir()
    for stem in "ab":
        shutil.copy(env["wav"], ref / f"{stem}.wav")
    code, result = _json(capsys, ["mcd", "--gen", str(gen), "--ref", str(ref), "--json"])
    assert result["n_items"] == 2 and result["n_scored"] == 1 and result["n_failed"] == 1
    (failure,) = result["failures"]
    assert failure["id"] == "b" and "broken symbolic link" in failure["error"] and failure["code"] == "missing_file"


def test_clipped_and_multichannel_audio_are_noted(tmp_path, env, capsys):
    """Issue 18: a float wav at ±1000 gave MCD 44.6 dB with no note; 6 channels downmixed silently."""
    wav, rate = sf.read(env["wav"], dtype="float32")
    sf.write(tmp_path / "loud.wav", wav * 1000.0, rate, subtype="FLOAT")
    sf.write(tmp_path / "six.wav", np.stack([wav] * 6, axis=1), rate)
    code, result = _json(capsys, ["mcd", "--gen", str(tmp_path / "loud.wav"), "--ref", env["wav"], "--json"])
    (item,) = result["items"]
    assert any("beyond full scale" in n and "scored as stored" in n for n in item["notes"]), item
    main(["mcd", "--gen", str(tmp_path / "six.wav"), "--ref", env["wav"]])
    text = capsys.readouterr().out
    assert "note six: gen_audio: 6 channels downmixed to mono" in text


def test_json_output_never_has_nan(tmp_path, env, capsys):
    from ttsf.inputs import strict_json

    assert strict_json({"a": float("nan"), "b": [float("inf"), 1.0]}) == '{"a": null, "b": [null, 1.0]}'
    code, result = _json(capsys, [*[a.format(**env) for a in MCD], "--json"])
    assert code == 0 and result["values"]["mcd"] >= 0


def test_subprocess_cuda_device_exit_code(env):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    res = subprocess.run([sys.executable, "-m", "eval.metrics", *[a.format(**env) for a in MCD], "--device", "cuda"],
                         capture_output=True, text=True, timeout=120, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stdout == ""
    assert "error: --device cuda: no CUDA GPU is available on this machine" in res.stderr
