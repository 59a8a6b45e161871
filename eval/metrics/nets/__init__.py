"""Networks used by the visual metrics (built here, weights loaded from files located
through :mod:`eval.weights`). Nothing is loaded at import time."""
