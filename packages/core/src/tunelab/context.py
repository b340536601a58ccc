"""What a backend receives for one trial: a `TrialContext`, never the tuner.

The tuner (`tunelab.tuner.BaseTuner.run_trial`) makes one context per trial and passes it
to the backend's `build_scope`, `validate_search` and `run_trial`. The context is the whole
of what a backend may see and do: read the trial, the objective, its own options and the
project's folders; report steps (which may stop the trial); build the hypermodel, save and
load models; read the best trials and a trial another continues. The same context is made
in the tuner's process, in an executor's worker (where reports travel to the driver and
other trials are read from the snapshot sent with the task) and in the Keras backend's
isolated trial process: a backend does not know which.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tunelab.hyperparameters import HyperParameters
    from tunelab.objective import Objective
    from tunelab.trial import Trial

__all__ = ["TrialContext", "TrialOracle", "trial_dir"]


def trial_dir(project_dir: Path, trial_id: str) -> Path:
    """The folder of trial `trial_id` in `project_dir` (``trial_<id>``)."""
    return Path(project_dir) / f"trial_{trial_id}"


class TrialOracle(Protocol):
    """What a context reads and reports through: the tuner's oracle in its process, the
    `tunelab.executors.worker.WorkerOracle` in a worker, a stand-in in a trial process."""

    objective: Any

    def update_trial(self, trial: Trial, metrics: Any, step: int = 0) -> str: ...

    def get_trial(self, trial_id: str) -> Trial: ...

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]: ...


class TrialContext:
    """Everything a backend gets for one trial.

    Attributes
    ----------
    trial : Trial
        The trial being run: its id, hyperparameters (``trial.hyperparameters``), status
        and the metrics reported so far.
    options : dict
        The tuner's backend keyword arguments (``cv``, ``loss``...) as given, already
        checked by the backend's `validate_options`.
    project_dir : Path
        The project's folder; `trial_dir` is this trial's folder inside it.
    hypermodel : HyperModel or None
        The tuner's hypermodel, for a backend that calls a `HyperModel.fit` override; build
        models with `build`, not with it.
    hooks : object or None
        The tuner's training hooks, for backends that call them during training: an object
        whose ``on_epoch_begin``, ``on_epoch_end``, ``on_batch_begin`` and ``on_batch_end``
        (``(trial, model, index, logs=None)``) may be defined: the tuner (its copy in a
        worker), or in the Keras backend's trial process an object carrying the tuner's hook
        methods. A backend calls those four methods of it and nothing else.
    max_epochs : int or None
        The largest budget a budgeted search (Hyperband) gives one trial; None otherwise.
        A trial's own budget is ``trial.hyperparameters.values["tuner/epochs"]``.
    refits_at_search_end : bool
        The tuner refits and saves the best model itself when the search ends (the
        scikit-learn tuner), so the backend need not save models as trials end.

    Methods
    -------
    report(metrics, step)
        Record a step's metrics; returns the trial's status, ``"STOPPED"`` when a pruner or
        Hyperband stops it (stop training then).
    build(hp)
        Build the hypermodel with `hp` and the search's arguments, in the backend's
        `build_scope`.
    save_model(model), load_model(trial_id)
        Save this trial's model in its folder; load the model a trial saved.
    get_trial(trial_id), get_best_trials(n)
        Read another trial (KeyError when it cannot be read here: a worker knows the 10
        best trials and the trial this one continues), and the best finished trials.
    set_objective(objective)
        Replace the search's default objective (one the user did not choose) by the one
        this backend's metrics call for; recorded in the project.
    """

    def __init__(
        self,
        trial: Trial,
        *,
        oracle: TrialOracle,
        options: dict[str, Any],
        project_dir: Path,
        build: Callable[[HyperParameters], Any],
        save_model: Callable[[Any], None],
        load_model: Callable[[str], Any],
        hypermodel: Any = None,
        hooks: Any = None,
        scope: Callable[[], AbstractContextManager[Any]] | None = None,
        max_epochs: int | None = None,
        refits_at_search_end: bool = False,
        record_meta: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.trial = trial
        self.options = options
        self.project_dir = Path(project_dir)
        self.hypermodel = hypermodel
        self.hooks = hooks
        self.max_epochs = max_epochs
        self.refits_at_search_end = refits_at_search_end
        self._oracle = oracle
        self._build = build
        self._save_model = save_model
        self._load_model = load_model
        self._scope = scope
        self._record_meta = record_meta

    @property
    def objective(self) -> Objective:
        """The search's objective (`tunelab.objective.Objective`)."""
        return self._oracle.objective

    @property
    def trial_id(self) -> str:
        return str(self.trial.trial_id)

    @property
    def trial_dir(self) -> Path:
        """This trial's folder (``<project_dir>/trial_<id>``), where its model is saved."""
        return trial_dir(self.project_dir, self.trial_id)

    def report(self, metrics: dict[str, float], step: int = 0) -> str:
        """Record `metrics` at `step`; the trial's status (``"STOPPED"``: stop training)."""
        return self._oracle.update_trial(self.trial, metrics, step=step)

    @contextlib.contextmanager
    def build_scope(self) -> Iterator[None]:
        """The backend's build scope, once the tuner knows the backend (else nowhere)."""
        if self._scope is None:
            yield
            return
        with self._scope():
            yield

    def build(self, hp: HyperParameters) -> Any:
        """A new model: the hypermodel built with `hp`, in the backend's build scope."""
        with self.build_scope():
            return self._build(hp)

    def save_model(self, model: Any) -> None:
        """Save `model` as this trial's model (in `trial_dir`)."""
        self._save_model(model)

    def load_model(self, trial_id: str) -> Any:
        """The model trial `trial_id` saved; FileNotFoundError when it saved none."""
        return self._load_model(trial_id)

    def get_trial(self, trial_id: str) -> Trial:
        return self._oracle.get_trial(trial_id)

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        return self._oracle.get_best_trials(num_trials)

    def set_objective(self, objective: Objective) -> None:
        self._oracle.objective = objective
        if self._record_meta is not None:
            self._record_meta("objective", objective.get_config())

    def __repr__(self) -> str:
        return f"TrialContext(trial {self.trial_id}, project {self.project_dir})"
