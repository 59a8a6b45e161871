"""baselines/upstream/compat.py shims that MakeItTalk needs, each in a fresh interpreter
(they patch modules process-wide): without the shim each check fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from baselines.base import UPSTREAM_DIR


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=UPSTREAM_DIR, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, timeout=300)


def test_pynormalize_is_importable_and_its_call_raises():
    proc = _run("""
        import importlib.util, sys
        assert importlib.util.find_spec("pynormalize") is None  # not installed: the shim is what is tested
        import compat
        compat.stub_pynormalize()
        import pynormalize.pynormalize  # MakeItTalk's module-level import
        import pynormalize
        try:
            pynormalize.process_files(Files=["x.wav"], target_dbfs=-20.0, directory="raw_wav")
        except ImportError as exc:
            print("raised:", exc)
        """)
    assert proc.returncode == 0, proc.stderr
    assert "raised: pynormalize.process_files: pynormalize is not installed" in proc.stdout
    assert "pynormalize absent" in proc.stderr  # the note lands in the item's log


def test_librosa_mel_accepts_the_positional_call():
    proc = _run("""
        import librosa.filters, numpy as np
        original = librosa.filters.mel
        try:
            original(16000, 1024, fmin=90, fmax=7600, n_mels=80)
            print("positional accepted without the shim")
        except TypeError:
            pass
        import compat
        compat.patch_librosa_mel()
        from librosa.filters import mel  # as vocoder_spec/extract_f0_func.py imports it
        got = mel(16000, 1024, fmin=90, fmax=7600, n_mels=80)
        want = original(sr=16000, n_fft=1024, fmin=90, fmax=7600, n_mels=80)
        print(got.shape, bool(np.array_equal(got, want)))
        """)
    assert proc.returncode == 0, proc.stderr
    assert "positional accepted" not in proc.stdout  # librosa >= 0.10 here: the shim is needed
    assert "(80, 513) True" in proc.stdout
