"""Exceptions a trial can raise to tell the tuner what happened (KerasTuner's names)."""

from __future__ import annotations

from typing import Any

from tunelab.objective import did_you_mean

__all__ = [
    "FailedTrialError",
    "FatalError",
    "FatalRuntimeError",
    "FatalTypeError",
    "FatalValueError",
    "InvalidTrialError",
    "NotAModelError",
    "ObjectiveNotReportedError",
    "SearchSetupError",
    "TooManyFailedTrialsError",
    "TrialTimeoutError",
]


class FailedTrialError(Exception):
    """Raise in a trial to fail it at once, without retries."""


class InvalidTrialError(Exception):
    """Raise in a trial whose configuration cannot be evaluated (e.g. a model that is too big).

    The trial ends INVALID: it is not a failure and does not count toward
    `max_consecutive_failed_trials`.
    """


class FatalError(Exception):
    """Raise in a trial to stop the whole search: the trial is recorded FAILED with the
    error, and the error reaches the caller of `search()`."""


class FatalValueError(FatalError, ValueError):
    """A `FatalError` that is also a ValueError (stops the search)."""


class FatalTypeError(FatalError, TypeError):
    """A `FatalError` that is also a TypeError (stops the search)."""


class FatalRuntimeError(FatalError, RuntimeError):
    """A `FatalError` that is also a RuntimeError (stops the search)."""


class SearchSetupError(FatalError):
    """The search cannot run at all (bad data, bad backend arguments...), found before the
    first trial trains: the search stops and that trial goes back to the oracle unrecorded,
    to run when a corrected search starts. Backends raise it (mixed with ValueError or
    TypeError) from `Backend.validate_search`."""


class NotAModelError(SearchSetupError, TypeError):
    """The hypermodel returned neither a trial result nor a model that a backend owns."""


class ObjectiveNotReportedError(SearchSetupError, ValueError):
    """A trial's result lacks the objective (a misspelled name, a metric not computed).

    `oracle.tell` raises it and changes nothing. The search loop stops at once when no
    finished trial of the project has reported the objective yet (a misspelled name would
    fail every trial): the trial goes back to run again once the objective is corrected.
    Afterwards, a trial that lacks it fails on its own.

    Attributes
    ----------
    trial_id : str
    missing : list of str
        The objective's metrics the result lacks.
    reported : list of str
        The metrics the result had.
    """

    def __init__(self, trial_id: str, objective: Any, reported: dict[str, Any]) -> None:
        self.trial_id = trial_id
        self.missing = [name for name in objective.names if name not in reported]
        self.reported = sorted(reported)
        hints = "".join(did_you_mean(name, self.reported) for name in self.missing)
        missing = self.missing[0] if len(self.missing) == 1 else self.missing
        super().__init__(
            f"objective {missing!r} is not among the results of trial {trial_id!r}: "
            f"{', '.join(self.reported) or '(none)'}{hints} (the result does not contain "
            "the objective: pass objective= naming one of the results, or report it)"
        )


class TooManyFailedTrialsError(RuntimeError):
    """`max_consecutive_failed_trials` trials failed in a row; the search stops."""


class TrialTimeoutError(FailedTrialError):
    """A trial ran longer than the tuner's `trial_timeout`; it fails without retries."""
