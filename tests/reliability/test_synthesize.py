"""``python -m ttsf.synthesize``: every numeric option, text and path refused with one line.

Cases run in-process against ``ttsf.synthesize.main``; most are refused during argument
or input validation, before the checkpoint is read. A few run as subprocesses to check
the real exit code and stderr.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ttsf.synthesize import main

MAX_TEXT_CHARS = 2000  # the documented limit (ttsf.data.manifest.MAX_TEXT_CHARS; docs/reliability.md)

REPO = Path(__file__).resolve().parents[2]
CKPT = REPO / "checkpoints" / "ttsf_synth.pt"
TTS_CKPT = REPO / "checkpoints" / "tts_synth.pt"

pytestmark = pytest.mark.skipif(not CKPT.is_file(), reason=f"committed checkpoint absent: {CKPT}")


class _Payload:
    def __init__(self, canary: str):
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


@pytest.fixture(scope="module")
def env(base_env, sandbox, tiny_corpus):
    ckpt = sandbox / "ckpt"
    ckpt.mkdir()
    data = CKPT.read_bytes()
    (ckpt / "truncated.pt").write_bytes(data[: len(data) // 3])
    (ckpt / "text.pt").write_text("this is not a checkpoint\n")
    (ckpt / "empty.pt").write_bytes(b"")
    torch.save({"format": "something-else", "weights": torch.zeros(2)}, ckpt / "wrongkind.pt")
    torch.save({"format": "ttsf-joint-v1-but-not-really"}, ckpt / "wrongformat.pt")
    canary = sandbox / "PWNED"
    (ckpt / "pickle.pt").write_bytes(pickle.dumps(_Payload(str(canary))))
    torch.save(_Payload(str(canary)), ckpt / "torchpickle.pt")
    return {**base_env, "ckpt": str(CKPT), "img": str(tiny_corpus / "faces" / "id01.png"), "dir": str(ckpt),
            "tts": str(TTS_CKPT), "canary": str(canary)}


BASE = ["--image", "{img}", "--checkpoint", "{ckpt}", "--out", "{out}/o.mp4"]
TEXT = ["--text", "Hello there."]


def _num(option: str, value: str, pattern: str):
    return (f"{option.lstrip('-')}={value}", [*TEXT, *BASE, f"{option}={value}"], pattern)


NUMBERS = [
    _num("--steps", "0", r"--steps: must be >= 1"),
    _num("--steps", "-3", r"--steps: must be >= 1"),
    _num("--steps", "nan", r"--steps: expected an integer"),
    _num("--steps", "inf", r"--steps: expected an integer"),
    _num("--steps", "1000000000", r"--steps: must be <= 1000"),
    _num("--steps", "2.5", r"--steps: expected an integer"),
    _num("--seed", "-1", r"--seed: must be >= 0"),
    _num("--seed", "nan", r"--seed: expected an integer"),
    _num("--seed", "1e30", r"--seed: expected an integer"),
    _num("--seed", "99999999999999999999999", r"--seed: must be <= "),
    _num("--temperature", "nan", r"--temperature: must be a finite number"),
    _num("--temperature", "inf", r"--temperature: must be a finite number"),
    _num("--temperature", "-1", r"--temperature: must be >= 0"),
    _num("--temperature", "1e9", r"--temperature: must be <= 10"),
    _num("--temperature", "warm", r"--temperature: expected a number"),
    _num("--motion-temperature", "nan", r"--motion-temperature: must be a finite number"),
    _num("--motion-temperature", "inf", r"--motion-temperature: must be a finite number"),
    _num("--motion-temperature", "-inf", r"--motion-temperature: must be a finite number"),
    _num("--motion-temperature", "-0.5", r"--motion-temperature: must be >= 0"),
    _num("--motion-temperature", "1e308", r"--motion-temperature: must be <= 10"),
    _num("--face-index", "-1", r"--face-index: must be >= 0"),
    _num("--face-index", "nan", r"--face-index: expected an integer"),
    _num("--face-index", "1e99", r"--face-index: expected an integer"),
]

TEXTS = [
    ("text-empty", ["--text", "", *BASE], r"--text is empty"),
    ("text-blank", ["--text", " \t\n ", *BASE], r"--text is empty"),
    ("text-chinese", ["--text", "你好，世界", *BASE], r"--text has .*English front end cannot read: '你' \(U\+4F60\)"),
    ("text-cyrillic", ["--text", "Привет", *BASE], r"cannot read: 'П' \(U\+041F\)"),
    ("text-emoji", ["--text", "Hello 😀 there", *BASE], r"cannot read: '😀' \(U\+1F600\)"),
    ("text-arabic-digits", ["--text", "room ٣", *BASE], r"cannot read: '٣'"),
    ("text-control", ["--text", "bell\x07ring", *BASE], r"cannot read: '\\x07' \(U\+0007\)"),
    ("text-not-utf8", ["--text", b"caf\xe9".decode("utf-8", "surrogateescape"), *BASE], r"--text is not valid UTF-8"),
    ("text-too-long", ["--text", "Hello there. " * 400, *BASE], rf"more than the limit of {MAX_TEXT_CHARS}"),
]

PATHS = [
    ("ckpt-missing", [*TEXT, "--image", "{img}", "--checkpoint", "{missing}", "--out", "{out}/o.mp4"],
     r"--checkpoint .*nothing.here does not exist"),
    ("ckpt-dir", [*TEXT, "--image", "{img}", "--checkpoint", "{empty}", "--out", "{out}/o.mp4"],
     r"--checkpoint .*emptydir is a directory"),
    ("ckpt-broken-link", [*TEXT, "--image", "{img}", "--checkpoint", "{broken}", "--out", "{out}/o.mp4"],
     r"--checkpoint .*broken.link is a broken symbolic link"),
    ("ckpt-truncated", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/truncated.pt", "--out", "{out}/o.mp4"],
     r"--checkpoint .*truncated.pt is not a loadable TTSF checkpoint"),
    ("ckpt-text", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/text.pt", "--out", "{out}/o.mp4"],
     r"--checkpoint .*text.pt is not a loadable TTSF checkpoint"),
    ("ckpt-empty", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/empty.pt", "--out", "{out}/o.mp4"],
     r"--checkpoint .*empty.pt is not a loadable TTSF checkpoint"),
    ("ckpt-wrong-kind", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/wrongkind.pt", "--out", "{out}/o.mp4"],
     r"wrongkind.pt is not a loadable TTSF checkpoint .*not a TTSF joint checkpoint"),
    ("ckpt-wrong-format", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/wrongformat.pt", "--out", "{out}/o.mp4"],
     r"wrongformat.pt is not a loadable TTSF checkpoint"),
    ("ckpt-tts-only", [*TEXT, "--image", "{img}", "--checkpoint", "{tts}", "--out", "{out}/o.mp4"],
     r"tts_synth.pt is not a loadable TTSF checkpoint"),
    ("ckpt-pickle", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/pickle.pt", "--out", "{out}/o.mp4"],
     r"pickle.pt is not a loadable TTSF checkpoint \(UnpicklingError"),
    ("ckpt-torch-pickle", [*TEXT, "--image", "{img}", "--checkpoint", "{dir}/torchpickle.pt", "--out", "{out}/o.mp4"],
     r"torchpickle.pt is not a loadable TTSF checkpoint \(UnpicklingError"),
    ("image-missing", [*TEXT, "--image", "{missing}", "--checkpoint", "{ckpt}", "--out", "{out}/o.mp4"],
     r"--image .*nothing.here does not exist"),
    ("image-dir", [*TEXT, "--image", "{empty}", "--checkpoint", "{ckpt}", "--out", "{out}/o.mp4"],
     r"--image .*emptydir is a directory"),
    ("image-broken-link", [*TEXT, "--image", "{broken}", "--checkpoint", "{ckpt}", "--out", "{out}/o.mp4"],
     r"--image .*broken.link is a broken symbolic link"),
    ("image-not-an-image", [*TEXT, "--image", "{notes}", "--checkpoint", "{ckpt}", "--out", "{out}/o.mp4"],
     r"notes.txt: cannot read image"),
    ("out-is-dir", [*TEXT, "--image", "{img}", "--checkpoint", "{ckpt}", "--out", "{out}"],
     r"--out .*out is a directory"),
    ("out-missing-folder", [*TEXT, "--image", "{img}", "--checkpoint", "{ckpt}", "--out", "{out}/no/such/o.mp4"],
     r"--out .*folder .*no/such does not exist"),
    ("out-read-only", [*TEXT, "--image", "{img}", "--checkpoint", "{ckpt}", "--out", "{ro}/o.mp4"],
     r"--out .*o.mp4: cannot write in folder"),
    ("out-symlink-out-of-tree", [*TEXT, "--image", "{img}", "--checkpoint", "{ckpt}", "--out", "{escape}"],
     r"--out .*escape.link is a symbolic link \(to .*secret.txt\)"),
    ("wav-symlink-out-of-tree", [*TEXT, *BASE, "--wav", "{escape}"], r"--wav .*escape.link is a symbolic link"),
    ("wav-is-dir", [*TEXT, *BASE, "--wav", "{out}"], r"--wav .*out is a directory"),
    ("wav-read-only", [*TEXT, *BASE, "--wav", "{ro}/o.wav"], r"--wav .*o.wav: cannot write in folder"),
]


@pytest.mark.parametrize("c", NUMBERS + TEXTS + PATHS, ids=lambda c: c[0])
def test_refused(c, env, refused):
    refused(main, c, env)
    assert not Path(env["canary"]).exists(), "a pickle payload ran"
    assert not list(Path(env["out"]).iterdir()), "an output was written for refused input"


def test_non_finite_motion_temperature_was_silent_before(env):
    """Regression (issue 18): `--motion-temperature nan` wrote an all-black video with NaN in its JSON."""
    from ttsf.synthesize import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--text", "x", "--image", "i", "--checkpoint", "c", "--out", "o",
                                   "--motion-temperature", "nan"])


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ttsf.synthesize", *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))


@pytest.mark.parametrize("c", [
    ("sub-motion-temperature-nan", [*TEXT, *BASE, "--motion-temperature", "nan"], r"--motion-temperature"),
    ("sub-text-chinese", ["--text", "你好", *BASE], r"cannot read: '你'"),
    ("sub-out-is-dir", [*TEXT, "--image", "{img}", "--checkpoint", "{ckpt}", "--out", "{out}"], r"is a directory"),
], ids=lambda c: c[0])
def test_subprocess_exit_code_and_stderr(c, env):
    res = _cli([a.format(**env) for a in c[1]])
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    lines = [line for line in res.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and __import__("re").search(c[2], lines[0]), res.stderr
    assert res.stdout == ""


def test_long_text_is_refused_with_the_limit_not_split():
    from ttsf.data.manifest import MAX_TEXT_CHARS as limit
    from ttsf.inputs import InputError
    from ttsf.tts.checks import check_text

    assert limit == MAX_TEXT_CHARS
    assert check_text("a" * MAX_TEXT_CHARS)
    with pytest.raises(InputError, match=f"{MAX_TEXT_CHARS + 1} characters, more than the limit of {MAX_TEXT_CHARS}"):
        check_text("a" * (MAX_TEXT_CHARS + 1))


def test_supported_text_passes():
    from ttsf.tts.checks import check_text, unsupported_characters

    assert unsupported_characters("Café — “quoted” naïve résumé, £5 & 10%… ½ x²") == []
    assert check_text("Hello there.") == "Hello there."


# ---------------------------------------------------------------- python -m ttsf.tts.synthesize (speech only)
TTS_BASE = ["--checkpoint", "{tts}", "--out", "{out}/o.wav", "--speaker", "x"]
TTS = [
    ("tts-steps-0", [*TEXT, *TTS_BASE, "--steps", "0"], r"--steps: must be >= 1"),
    ("tts-steps-nan", [*TEXT, *TTS_BASE, "--steps", "nan"], r"--steps: expected an integer"),
    ("tts-temperature-inf", [*TEXT, *TTS_BASE, "--temperature", "inf"], r"--temperature: must be a finite number"),
    ("tts-temperature-negative", [*TEXT, *TTS_BASE, "--temperature=-2"], r"--temperature: must be >= 0"),
    ("tts-length-scale-0", [*TEXT, *TTS_BASE, "--length-scale", "0"], r"--length-scale: must be > 0"),
    ("tts-length-scale-nan", [*TEXT, *TTS_BASE, "--length-scale", "nan"], r"--length-scale: must be a finite"),
    ("tts-length-scale-huge", [*TEXT, *TTS_BASE, "--length-scale", "1e300"], r"--length-scale: must be <= 10"),
    ("tts-seed-negative", [*TEXT, *TTS_BASE, "--seed=-7"], r"--seed: must be >= 0"),
    ("tts-text-empty", ["--text", "", *TTS_BASE], r"--text is empty"),
    ("tts-text-emoji", ["--text", "🙂", *TTS_BASE], r"cannot read: '🙂'"),
    ("tts-text-too-long", ["--text", "x" * 2001, *TTS_BASE], r"more than the limit of 2000"),
    ("tts-device-cuda", [*TEXT, *TTS_BASE, "--device", "cuda"], r"--device cuda: no CUDA GPU"),
    ("tts-ckpt-missing", [*TEXT, "--checkpoint", "{missing}", "--out", "{out}/o.wav"],
     r"--checkpoint .* does not exist"),
    ("tts-ckpt-pickle", [*TEXT, "--checkpoint", "{dir}/pickle.pt", "--out", "{out}/o.wav"],
     r"cannot load the model inputs \(UnpicklingError"),
    ("tts-ckpt-text", [*TEXT, "--checkpoint", "{dir}/text.pt", "--out", "{out}/o.wav"],
     r"cannot load the model inputs"),
    ("tts-out-dir", [*TEXT, "--checkpoint", "{tts}", "--out", "{out}"], r"--out .*out is a directory"),
    ("tts-out-read-only", [*TEXT, "--checkpoint", "{tts}", "--out", "{ro}/o.wav"], r"--out .*cannot write in folder"),
    ("tts-cond-missing", [*TEXT, "--checkpoint", "{tts}", "--out", "{out}/o.wav", "--cond", "{missing}"],
     r"--cond .* does not exist"),
    ("tts-image-without-face", [*TEXT, "--checkpoint", "{tts}", "--out", "{out}/o.wav", "--image", "{img}"],
     r"--image needs --face-checkpoint"),
]


@pytest.mark.parametrize("c", TTS, ids=lambda c: c[0])
def test_tts_refused(c, env, refused):
    from ttsf.tts.synthesize import main as tts_main

    if c[0] == "tts-device-cuda" and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    refused(tts_main, c, env)
    assert not list(Path(env["out"]).iterdir())


def test_failed_writes_leave_no_temp_file(tmp_path):
    """Issue 18: `--out` that is a directory left a `.out2.tmp*.mp4` behind. The writers
    themselves clean up, whatever the caller checked first."""
    import numpy as np

    from ttsf.atomic import atomic_write_bytes
    from ttsf.media import write_audio, write_video

    target = tmp_path / "out2.mp4"
    target.mkdir()
    with pytest.raises(OSError):
        write_video(target, np.zeros((2, 16, 16, 3), np.uint8), fps=25)
    wav = tmp_path / "o.wav"
    wav.mkdir()
    with pytest.raises(Exception):
        write_audio(wav, np.zeros(1600, np.float32), 16000)
    state = tmp_path / "state.json"
    state.mkdir()
    with pytest.raises(OSError):
        atomic_write_bytes(state, b"{}")
    assert not [p.name for p in tmp_path.rglob("*") if ".tmp" in p.name]
