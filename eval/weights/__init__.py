"""CLI over the weights registry :mod:`ttsf.weights`:
``python -m eval.weights list | where NAME | download NAME | verify``."""
