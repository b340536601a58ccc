"""Exceptions a trial can raise to tell the tuner what happened (KerasTuner's names)."""

from __future__ import annotations

__all__ = [
    "FailedTrialError",
    "FatalError",
    "InvalidTrialError",
    "NotAModelError",
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
    """Raise in a trial to stop the whole search."""


class SearchSetupError(FatalError):
    """The search cannot run at all (bad data, bad backend arguments...), found before the
    first trial trains: the search stops and that trial goes back to the oracle unrecorded,
    to run when a corrected search starts. Backends raise it (mixed with ValueError or
    TypeError) from `Backend.validate_search`."""


class NotAModelError(SearchSetupError, TypeError):
    """The hypermodel returned neither a trial result nor a model that a backend owns."""


class TooManyFailedTrialsError(RuntimeError):
    """`max_consecutive_failed_trials` trials failed in a row; the search stops."""


class TrialTimeoutError(FailedTrialError):
    """A trial ran longer than the tuner's `trial_timeout`; it fails without retries."""
