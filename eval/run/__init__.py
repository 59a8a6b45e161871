"""The evaluation harness: ``python -m eval.run`` (see :mod:`eval.run.cli`)."""

from eval.run.runner import RunConfig, RunError, RunResult, run

__all__ = ["RunConfig", "RunError", "RunResult", "run"]
