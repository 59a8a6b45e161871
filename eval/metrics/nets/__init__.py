"""Networks used by the visual metrics (built here, weights loaded from files located
through :mod:`ttsf.weights`). Nothing is loaded at import time."""
