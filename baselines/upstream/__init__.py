"""Files that run INSIDE an upstream's own interpreter (never imported by ttsf-bench).

``compat.py`` applies the few run-time fixes an old upstream needs on Python 3.11 /
torch 2.14 / NumPy 2 and then runs the upstream script unchanged; ``placeholder_*.py``
build random-init checkpoints from the upstream's own model classes (tests only).
They import nothing from ttsf-bench: the upstream environment does not have it.
"""
