"""Exceptions a trial can raise to tell the tuner what happened (KerasTuner's names)."""

from __future__ import annotations

__all__ = [
    "FailedTrialError",
    "FatalError",
    "InvalidTrialError",
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


class TooManyFailedTrialsError(RuntimeError):
    """`max_consecutive_failed_trials` trials failed in a row; the search stops."""


class TrialTimeoutError(FailedTrialError):
    """A trial ran longer than the tuner's `trial_timeout`; it fails without retries."""
