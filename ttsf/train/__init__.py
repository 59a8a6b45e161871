"""Training entry points: ``python -m ttsf.train {tts|face|joint} --config FILE [...]``.

Each mode lives in its own module (``ttsf.train.tts``, ``ttsf.train.face``,
``ttsf.train.joint``) exposing ``main(argv) -> int``; the dispatcher imports only
the chosen one.
"""

MODES = ("tts", "face", "joint")
