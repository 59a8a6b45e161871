"""TTSF: joint text-to-speech and talking-face synthesis (arXiv 2405.10272).

``ttsf.TTSF`` is imported lazily (no work at import time).
"""

__all__ = ["TTSF", "TTSFConfig"]


def __getattr__(name):
    if name in __all__:
        from ttsf import model

        return getattr(model, name)
    raise AttributeError(f"module 'ttsf' has no attribute {name!r}")
