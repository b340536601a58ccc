"""The Keras backend's errors: each stops the search, since every trial would hit it too."""

from __future__ import annotations

from tunelab.errors import FatalError, SearchSetupError
from tunelab.outcomes import ResultTypeError

__all__ = [
    "FitResultTypeError",
    "NotAKerasModelError",
    "ObjectiveNotLoggedError",
    "SearchInputError",
]


class SearchInputError(FatalError, ValueError):
    """The search cannot work as asked (wrong objective, uncompiled model...): it stops."""


class NotAKerasModelError(SearchInputError, TypeError):
    """The hypermodel returned something that is not a Keras model."""


class FitResultTypeError(SearchInputError, ResultTypeError):
    """``HyperModel.fit`` returned something that is not a result (a string, None...)."""


class ObjectiveNotLoggedError(SearchSetupError, SearchInputError):
    """The compiled model will not log the objective (found before any training): the
    search stops and its first trial goes back to the oracle, to run once corrected."""
