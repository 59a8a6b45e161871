"""``python -m eval.synth``: corpus-builder options refused before anything is built."""

from __future__ import annotations

import pytest

from eval.synth.__main__ import main

BUILD = ["build", "--out", "{out}/corpus"]
CASES = [
    ("seconds-nan", [*BUILD, "--seconds", "nan"], r"seconds must be a number, got nan"),
    ("seconds-inf", [*BUILD, "--seconds", "inf"], r"seconds must be a number, got inf"),
    ("seconds-zero", [*BUILD, "--seconds", "0"], r"seconds must be between 1 and 30"),
    ("seconds-huge", [*BUILD, "--seconds", "1e300"], r"seconds must be between 1 and 30"),
    ("identities-zero", [*BUILD, "--identities", "0"], r"identities must be >= 1, got 0"),
    ("identities-negative", [*BUILD, "--identities=-1"], r"identities must be >= 1, got -1"),
    ("identities-too-many", [*BUILD, "--identities", "99"], r"identities=99 but only 8 faces"),
    ("clips-zero", [*BUILD, "--clips", "0"], r"clips must be between 1 and 10000, got 0"),
    ("size-odd", [*BUILD, "--size", "7"], r"size must be between 64 and 1024, got 7"),
    ("jobs-zero", [*BUILD, "--jobs", "0"], r"jobs must be a positive integer, got 0"),
    ("seed-negative", [*BUILD, "--seed=-1"], r"seed must be between 0 and"),
    ("seed-nan", [*BUILD, "--seed", "nan"], r"argument --seed: invalid int value: 'nan'"),
    ("voices-unknown", [*BUILD, "--voices", "nobody"], r"nobody"),
    ("out-is-file", ["build", "--out", "{notes}"], r"notes.txt exists and is not a directory"),
]


@pytest.mark.parametrize("c", CASES, ids=lambda c: c[0])
def test_refused(c, base_env, refused):
    refused(main, c, base_env)
