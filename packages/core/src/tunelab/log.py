"""tunelab's logging: the standard `logging` module, logger ``"tunelab"``.

Nothing is configured here (a library leaves that to the application). Warnings and errors
therefore reach stderr as plain one-line messages through Python's last-resort handler when
the application has configured nothing, and follow the application's handlers, format and
levels when it has. Per-trial records are INFO: ``logging.basicConfig(level="INFO")`` shows
them. Silence tunelab's warnings with ``logging.getLogger("tunelab").setLevel("ERROR")``.

KerasTuner's ``logger=`` argument is accepted: a `logging.Logger` receives tunelab's
records for that tuner; an object with KerasTuner's ``report_trial_state(trial_id, state)``
method is called with each finished trial's state.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunelab.trial import Trial

__all__ = ["LOGGER_NAME", "TrialLogger", "get_logger"]

LOGGER_NAME = "tunelab"


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``"tunelab"`` logger, or its child ``"tunelab.<name>"``.

    Examples
    --------
    >>> get_logger("cli").name
    'tunelab.cli'
    """
    return logging.getLogger(LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}")


def _last_line(message: str | None) -> str:
    lines = (message or "").strip().splitlines()
    return lines[-1] if lines else "no error message"


class TrialLogger:
    """Logs each finished trial: INFO for a result, WARNING for a failure.

    Parameters
    ----------
    objective_name : str
        The name shown beside scores.
    logger : logging.Logger or KerasTuner-style logger, optional
        Where records go (default: the ``"tunelab"`` logger).

    Examples
    --------
    >>> import tunelab as kt
    >>> trial = kt.Trial(kt.HyperParameters(), trial_id="3", status="COMPLETED")
    >>> trial.score = 0.5
    >>> TrialLogger("loss").describe(trial)
    'Trial 3 COMPLETED: loss=0.5'
    """

    def __init__(self, objective_name: str, logger: Any = None) -> None:
        self.objective_name = objective_name
        self.logger = logger if isinstance(logger, logging.Logger) else get_logger()
        # KerasTuner's logger objects (e.g. its CloudLogger) get the trial states.
        self.reporter = logger if hasattr(logger, "report_trial_state") else None

    def describe(self, trial: Trial) -> str:
        if trial.status in ("COMPLETED", "STOPPED"):
            return f"Trial {trial.trial_id} {trial.status}: {self.objective_name}={trial.score}"
        if trial.status == "IDLE":  # failed, will run again
            return (
                f"Trial {trial.trial_id} failed and will run again (retry {trial.retries}): "
                f"{_last_line(trial.message)}"
            )
        return f"Trial {trial.trial_id} {trial.status}: {_last_line(trial.message)}"

    def on_trial_end(self, trial: Trial) -> None:
        level = logging.WARNING if trial.status in ("FAILED", "IDLE") else logging.INFO
        if trial.status == "FAILED":
            text = (
                f"{self.describe(trial)} (full traceback: "
                f"tuner.oracle.get_trial({trial.trial_id!r}).message)"
            )
        else:
            text = self.describe(trial)
        self.logger.log(level, text)
        if self.reporter is not None:
            self.reporter.report_trial_state(trial.trial_id, trial.get_config())
