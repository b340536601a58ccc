"""The interface a backend implements to train, evaluate, save and load one framework's models."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunelab.context import TrialContext

__all__ = ["Backend", "takes_tuner"]


def takes_tuner(method: Any) -> bool:
    """Whether a backend's `method` is written against the former contract, which passed
    the tuner (``run_trial(tuner, trial, model, ...)``, ``validate_search(tuner, ...)``,
    ``build_scope(tuner)``): its first parameter is named ``tuner``. The tuner still calls
    such backends that way, so that backends written before `TrialContext` keep working."""
    try:
        names = list(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return False
    return names[:1] == ["tuner"]


class Backend:
    """Base class of backends. A backend is stateless; the tuner passes it what it needs,
    a `tunelab.context.TrialContext` per trial (see `tunelab.hookspecs` for the contract).

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
    def build_scope(self, context: TrialContext) -> Iterator[None]:
        """Where the tuner builds a trial's model once it knows this backend owns its models
        (e.g. inside a distribution strategy's scope, from ``context.options``). The
        default: nowhere special."""
        yield

    def validate_search(
        self, context: TrialContext, model: Any, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        """Check a search's arguments before anything trains; the default accepts them.

        Called once per `search`, with the context of its first trial (see
        `tunelab.context.TrialContext`), the first model the hypermodel built and the
        arguments of ``search(*args, **kwargs)``, after `validate_options`. Raise a
        `tunelab.errors.SearchSetupError` (subclassed with ValueError or TypeError) for data
        or settings that no trial can run with (e.g. X and y of different lengths): the
        search stops at once and the trial goes back to the oracle, unrecorded.
        """

    def run_trial(self, context: TrialContext, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Fit and evaluate `model` (built for ``context.trial``) and return its metrics: a
        number, a dict, or a list of dicts (one per execution); or report each step with
        ``context.report`` and return None. Save the model with ``context.save_model``.

        `args` and `kwargs` are those of ``search(*args, **kwargs)``; a trial that continues
        an earlier one (Hyperband) also gets ``epochs=`` and ``initial_epoch=``, and
        `model` is then the earlier trial's saved model when `loads_parent_model` is True.
        """
        raise NotImplementedError

    def save_model(self, model: Any, path: Path) -> None:
        raise NotImplementedError

    def load_model(self, path: Path) -> Any:
        """Load the model saved at `path`. A backend may also take a keyword ``rebuild``:
        the tuner then passes a function that builds the trial's model anew from the
        hypermodel, for a file that cannot be loaded alone (e.g. weights only)."""
        raise NotImplementedError
