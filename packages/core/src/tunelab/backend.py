"""The interface a backend implements to train, evaluate, save and load one framework's models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunelab.trial import Trial
    from tunelab.tuner import BaseTuner

__all__ = ["Backend"]


class Backend:
    """Base class of backends. A backend is stateless; the tuner passes it what it needs.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"sklearn"`` or ``"keras"``.
    options : frozenset of str
        The tuner keyword arguments this backend accepts (``cv``, ``scoring``, ``loss``...).
    model_filename : str
        File name of a saved model inside a trial's folder.
    loads_parent_model : bool
        Whether Hyperband loads a continued trial's parent model and passes it to
        `run_trial` (True). A backend that continues trials from state of its own (e.g.
        one model per cross-validation fold) sets False and gets a newly built model.
    """

    name = "backend"
    options: frozenset[str] = frozenset()
    model_filename = "model"
    loads_parent_model = True

    def owns(self, model: Any) -> bool:
        """Whether `model` is one of this framework's models."""
        raise NotImplementedError

    def validate_options(self, options: dict[str, Any]) -> None:
        """Raise a clear error for unknown or bad backend arguments."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise TypeError(
                f"the {self.name} backend does not accept the argument(s) {unknown}; "
                f"it accepts {sorted(self.options)}"
            )

    @contextlib.contextmanager
    def build_scope(self, tuner: BaseTuner) -> Iterator[None]:
        """Where the tuner builds a trial's model once it knows this backend owns its models
        (e.g. inside a distribution strategy's scope). The default: nowhere special."""
        yield

    def validate_search(
        self, tuner: BaseTuner, model: Any, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        """Check a search's arguments before anything trains; the default accepts them.

        Called once per `search`, with the first model the hypermodel built and the
        arguments of ``search(*args, **kwargs)``, after `validate_options`. Raise a
        `tunelab.errors.SearchSetupError` (subclassed with ValueError or TypeError) for data
        or settings that no trial can run with (e.g. X and y of different lengths): the
        search stops at once and the trial goes back to the oracle, unrecorded.
        """

    def run_trial(
        self, tuner: BaseTuner, trial: Trial, model: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Fit and evaluate `model` (built for `trial`) and return its metrics: a number, a
        dict, or a list of dicts (one per execution). Save models with `tuner.save_model`."""
        raise NotImplementedError

    def save_model(self, model: Any, path: Path) -> None:
        raise NotImplementedError

    def load_model(self, path: Path) -> Any:
        raise NotImplementedError
