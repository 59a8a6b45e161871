"""The project's one default output root.

Everything a command writes by default goes under ``runs/`` (relative to the working
directory, ignored by git): training runs in ``runs/<stage or config name>/`` (the
``train.out_dir`` of each config), evaluation runs of ``python -m eval.run`` in
``runs/eval/<run_id>/``, benches in ``runs/<bench>/``. Every command takes an ``--out``
(or ``--set train.out_dir=...``) to write elsewhere. Committed records live elsewhere:
``results/`` (see README).
"""

from __future__ import annotations

#: the default output root (relative to the working directory)
RUNS_ROOT = "runs"
#: where ``python -m eval.run`` puts its run folders by default
EVAL_RUNS = f"{RUNS_ROOT}/eval"


def runs_dir(name: str) -> str:
    """``runs/<name>``: the default output folder of a training stage or bench."""
    return f"{RUNS_ROOT}/{name}"
