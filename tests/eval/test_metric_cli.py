"""``python -m eval.metrics``: single files and folders, audio and visual metrics, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from eval.metrics.cli import main
from ttsf.media import write_audio, write_video

TEXT = "Please call Stella and ask her to bring these things with her from the store."


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_speech")
    out = {}
    for voice in ("slt", "rms"):
        out[voice] = root / f"{voice}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", TEXT, "-o", str(out[voice])], check=True)
    out["silence"] = write_audio(root / "silence.wav", np.zeros(16000, dtype=np.float32), 16000)
    return out


def _run(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_mcd_on_folders_pairs_by_stem_and_reports_failed_items(clips, tmp_path, capsys):
    from pymcd.mcd import Calculate_MCD

    gen, ref = tmp_path / "gen", tmp_path / "ref"
    gen.mkdir()
    ref.mkdir()
    shutil.copy(clips["rms"], gen / "u1.wav")
    shutil.copy(clips["silence"], gen / "u2.wav")
    shutil.copy(clips["slt"], gen / "u3.wav")  # no reference partner
    shutil.copy(clips["slt"], ref / "u1.wav")
    shutil.copy(clips["slt"], ref / "u2.wav")
    code, result = _run(capsys, "mcd", "--gen", str(gen), "--ref", str(ref), "--option", "mode=dtw")
    assert code == 0
    assert result["backend"] == "pymcd" and result["paper_comparable"] is True
    assert result["values"]["mcd"] == pytest.approx(Calculate_MCD("dtw").calculate_mcd(str(ref / "u1.wav"),
                                                                                        str(gen / "u1.wav")))
    assert result["n_items"] == 3 and result["n_scored"] == 1
    assert {f["id"]: f["code"] for f in result["failures"]} == {"u2": "silent_audio", "u3": "missing_input"}
    assert result["info"]["options"] == {"mode": "dtw"}
    from importlib import metadata

    packages = result["provenance"]["packages"]
    assert packages["pymcd"] == metadata.version("pymcd") and packages["pysptk"] == metadata.version("pysptk")
    assert "git_commit" in result["provenance"] and result["provenance"]["python"]


def test_all_items_failing_is_missing_not_zero(clips, capsys):
    code, result = _run(capsys, "f0_rmse", "--gen", str(clips["silence"]), "--ref", str(clips["slt"]))
    assert code == 1
    assert result["values"]["f0_rmse"] is None and "f0_rmse" in result["missing"]
    assert main(["f0_rmse", "--gen", str(clips["silence"]), "--ref", str(clips["slt"])]) == 1
    text = capsys.readouterr().out
    assert "f0_rmse: missing" in text and "FAILED silence: [silent_audio]" in text


def test_wer_single_file_with_text_file(clips, tmp_path, capsys):
    text_file = tmp_path / "t.txt"
    text_file.write_text("Text:  " + TEXT.upper() + "\nConf:  4\n")  # LRS style
    code, result = _run(capsys, "wer", "--backend", "faster-whisper-base", "--gen", str(clips["slt"]),
                        "--text-file", str(text_file), "--option", "threads=2")
    assert code == 0 and result["paper_comparable"] is False
    assert result["values"]["ref_words"] == 15 and 0 <= result["values"]["wer"] <= 20
    assert result["info"]["weights_sha256"].startswith("905e5bf8")


def test_wer_on_a_synthetic_corpus_folder(tiny_corpus, capsys):
    """A corpus folder holds <stem>.mp4 + .wav + .txt: audio metrics take the wav and the LRS text."""
    from ttsf.data.manifest import parse_lrs_text

    folder = Path(tiny_corpus) / "main" / "id00"
    code, result = _run(capsys, "wer", "--backend", "faster-whisper-base", "--gen", str(folder),
                        "--option", "threads=2")
    stems = sorted(p.stem for p in folder.glob("*.wav"))
    words = sum(len(parse_lrs_text((folder / f"{s}.txt").read_text()).split()) for s in stems)
    assert code == 0 and result["n_scored"] == len(stems) >= 2
    assert result["values"]["ref_words"] == words and result["values"]["wer"] <= 50
    assert all(item["notes"] == [] for item in result["items"])  # the wav, not the mp4's audio


def test_visual_metric_through_the_registry(tmp_path, capsys):
    rng = np.random.default_rng(0)
    gen, ref = tmp_path / "gen", tmp_path / "ref"
    for folder, shift in ((gen, 0), (ref, 90)):
        folder.mkdir()
        for i in range(2):
            frames = np.clip(rng.integers(0, 120, size=(6, 64, 64, 3)) + shift, 0, 255).astype(np.uint8)
            write_video(folder / f"clip{folder.name}{i}.mp4", frames, fps=25)
    code, diff = _run(capsys, "fid", "--backend", "fd_mobilenetv2", "--gen", str(gen), "--ref", str(ref))
    assert code == 0 and diff["output_name"] == "fd_mobilenetv2" and diff["paper_comparable"] is False
    assert diff["values"]["fd_mobilenetv2"] > 1.0 and diff["values"]["n_gen"] == 12 and diff["n_scored"] == 2
    assert any("feature dims" in w for w in diff["info"]["warnings"])  # small-N bias is reported


def test_usage_errors_exit_2_with_the_reason(clips, tmp_path, monkeypatch, capsys):
    assert main(["wre", "--gen", str(clips["slt"])]) == 2
    assert "Did you mean: wer" in capsys.readouterr().err
    assert main(["mcd", "--gen", str(tmp_path / "nope.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path / "w"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["wer", "--gen", str(clips["slt"]), "--text", TEXT]) == 2
    err = capsys.readouterr().err
    assert "large-v3.pt" in err and "python -m eval.weights download whisper_large_v3" in err


def test_non_utf8_transcript_is_a_per_item_failure_naming_the_file(clips, tmp_path, capsys):
    gen = tmp_path / "gen"
    gen.mkdir()
    for stem in ("good", "latin1"):
        shutil.copy(clips["slt"], gen / f"{stem}.wav")
    (gen / "good.txt").write_text(TEXT, encoding="utf-8")
    (gen / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    code, result = _run(capsys, "wer", "--backend", "faster-whisper-base", "--gen", str(gen), "--option", "threads=2")
    assert code == 0 and result["n_items"] == 2 and result["n_scored"] == 1
    assert result["values"]["ref_words"] == 15  # only the readable transcript counts
    [failure] = result["failures"]
    assert failure["id"] == "latin1" and failure["code"] == "bad_text"
    assert "latin1.txt is not UTF-8" in failure["error"]
    # a bad --text-file is a usage error that names the file
    assert main(["wer", "--backend", "faster-whisper-base", "--gen", str(gen / "good.wav"),
                 "--text-file", str(gen / "latin1.txt")]) == 2
    assert "latin1.txt is not UTF-8" in capsys.readouterr().err
    # metrics that need no text ignore an unreadable transcript beside the audio
    code, result = _run(capsys, "mcd", "--gen", str(gen), "--ref", str(gen))
    assert code == 0 and result["n_scored"] == 2 and result["values"]["mcd"] == 0.0
