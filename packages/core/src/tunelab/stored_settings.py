"""What a project keeps besides its trials: the search space and the objective.

When a project is opened again, its stored space joins the oracle's (definitions the code
no longer registers stay, changed ones are reported, with the kept trials that lie outside
the new space). While it runs, hyperparameters that trials register (define-by-run) join the
space and are saved.

A project that holds trials of another search is refused (`ProjectMismatchError`): another
objective, another tuner class, or a space that shares no hyperparameter with the stored
one. Two scripts run in one folder with the default project name would otherwise mix their
trials, and the best trial of one would be reported as the other's.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tunelab.errors import SearchSetupError
from tunelab.hyperparameters import _STORED, HyperParameters
from tunelab.objective import Objective
from tunelab.outcomes import objective_score
from tunelab.storage import Storage, StoreError
from tunelab.trial import TrialStatus

__all__ = ["ProjectMismatchError", "StoredSettings"]

# How many kept trials outside a changed space are named (the rest are counted).
_NAMED_OUTSIDE = 3


class ProjectMismatchError(SearchSetupError):
    """The project folder holds trials of another search (another objective, another tuner
    class, or a space with no hyperparameter in common with the stored one).

    Raised when the tuner opens the project, or, when the space is only known once a trial
    has built the hypermodel, when that first trial ends (it is not recorded). Pass
    ``overwrite=True`` to start again in that folder, or another ``project_name``.
    """


class StoredSettings:
    """The space and objective of `oracle`'s search, kept in `storage`.

    `oracle` is read for ``hyperparameters``, ``objective``, ``seed`` and ``max_trials``.
    """

    def __init__(self, oracle: Any, storage: Storage) -> None:
        self.oracle = oracle
        self.storage = storage
        self._reported_changes: set[str] = set()
        # Names of a stored space to compare with the first trial's, when the code's space
        # is only known once a trial has built the hypermodel (define-by-run).
        self._stored_names: set[str] | None = None

    def load(self) -> None:
        """Merge the stored space into the oracle's (refusing a project of another search)
        and save the search's settings."""
        try:
            self._load_meta()
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            # Meta values are JSON this library wrote: anything else means a damaged file.
            raise StoreError(
                f"{self.storage.path} is damaged: its stored search space or objective "
                f"cannot be read ({type(error).__name__}: {error}); it was left as it is"
            ) from error

    def _load_meta(self) -> None:
        storage, oracle = self.storage, self.oracle
        space = oracle.hyperparameters
        trials = self._finished()
        stored_space = storage.get_meta("space")
        stored_objective = storage.get_meta("objective")
        rescore = False
        if trials and stored_objective is not None:
            old = Objective.from_config(stored_objective)
            if old != oracle.objective:
                raise self._mismatch(
                    trials, f"its objective is {old!r}, this search's is {oracle.objective!r}"
                )
            # The same objective stored in an older form (an objective list saved before
            # lists were scored as KerasTuner's): its trials are scored again.
            rescore = stored_objective != oracle.objective.get_config()
        if stored_space is not None:
            previous = HyperParameters.from_config({"space": stored_space})
            if trials and previous.space:
                stored_names = {hp.name for hp in previous.space}
                code_names = {
                    hp.name for key, hp in space._space.items() if space._origin.get(key) != _STORED
                }
                if code_names and not code_names & stored_names:
                    raise self._mismatch(trials, _no_common(stored_names, code_names))
                if not code_names:
                    self._stored_names = stored_names
            changes = []
            for hp in previous.space:
                current = space._find(hp)  # same name and conditions
                if current is None:
                    space._put(hp, _STORED)
                elif current != hp:
                    changes.append(f"~ {hp.name}: stored {hp!r} -> now {current!r}")
            self.report_changes(changes)
        with storage.transaction():
            if rescore:
                self._rescore()
            storage.set_meta("objective", oracle.objective.get_config())
            storage.set_meta("space", space.get_config()["space"])
            storage.set_meta(
                "oracle",
                {
                    "class": type(oracle).__name__,
                    "seed": oracle.seed,
                    "max_trials": oracle.max_trials,
                },
            )

    def _rescore(self) -> None:
        print(
            "Objective lists are now scored as KerasTuner's (the sum to minimize); "
            "scores of finished trials are recomputed."
        )
        scores = []
        for stored in self.storage.get_trials((TrialStatus.COMPLETED, TrialStatus.STOPPED)):
            score, best_step = objective_score(self.oracle.objective, stored.metrics)
            status = stored.status if score is not None and math.isfinite(score) else "INVALID"
            scores.append(
                (stored.trial_id, score if status != "INVALID" else None, best_step, status)
            )
        self.storage.rescore(scores)

    def check_tuner(self, tuner_class: str, backend: Any = None) -> None:
        """Refuse a project whose trials another tuner class made; record `tuner_class`
        (and the name of `backend`, a tuner's backend given at construction)."""
        storage = self.storage
        name = getattr(backend, "name", None)
        if isinstance(name, str) and storage.get_meta("backend") != name:
            storage.set_meta("backend", name)
        stored = storage.get_meta("tuner")
        trials = self._finished()
        if trials and isinstance(stored, dict) and stored.get("class") not in (None, tuner_class):
            raise self._mismatch(
                trials, f"it was made by {stored['class']}, this search is {tuner_class}"
            )
        if stored != {"class": tuner_class}:
            storage.set_meta("tuner", {"class": tuner_class})

    def _finished(self) -> int:
        """Trials that ended (a trial put back unrun, as after a misspelled objective, or
        one still running is no search's result yet)."""
        counts = self.storage.count_by_status()
        return sum(n for s, n in counts.items() if s not in (TrialStatus.IDLE, TrialStatus.RUNNING))

    def _mismatch(self, trials: int, what: str) -> ProjectMismatchError:
        path = getattr(self.storage, "location", None) or str(Path(str(self.storage.path)).parent)
        return ProjectMismatchError(
            f"project {path!r} holds {trials} trial(s) of another search: {what}. "
            "Pass overwrite=True to delete them and start this search there, or "
            "project_name='...' (another name) to keep them."
        )

    def report_changes(self, changes: list[str]) -> None:
        """Print how the space differs from the stored one (each change once), and which
        kept trials have values outside the new space (they may still be the best)."""
        fresh = [c for c in changes if c not in self._reported_changes]
        if fresh:
            print("The search space differs from the stored one; going on with the new space:")
            for line in fresh:
                print(f"  {line}")
            self._reported_changes.update(fresh)
            outside = self._trials_outside()
            if outside:
                named = ", ".join(outside[:_NAMED_OUTSIDE])
                more = len(outside) - _NAMED_OUTSIDE
                print(
                    f"  {len(outside)} kept trial(s) have values outside the new space "
                    f"({named}{f', and {more} more' if more > 0 else ''}); they stay in the "
                    "results and may be reported as best (overwrite=True starts afresh)."
                )

    def _trials_outside(self) -> list[str]:
        """'trial <id> (name=value)' for each finished trial with a value the space lacks."""
        space = self.oracle.hyperparameters._space
        found = []
        for stored in self.storage.get_trials((TrialStatus.COMPLETED, TrialStatus.STOPPED)):
            for name, value in stored.values.items():
                definition = space.get(name)
                if definition is None:
                    continue
                try:
                    definition.validate(value)
                except ValueError:
                    found.append(f"trial {stored.trial_id} ({name}={value!r})")
                    break
        return found

    def save_space(self) -> None:
        self.storage.set_meta("space", self.oracle.hyperparameters.get_config()["space"])

    def merge_trial_space(self, hp: HyperParameters) -> None:
        """Add what a trial registered while it ran (`hp`, define-by-run) to the space."""
        self._check_first_trial(hp)
        space = self.oracle.hyperparameters
        changed = False
        changes = list(hp._changes)
        for definition in hp.space:
            name = definition.name
            if name in hp._untuned:
                continue
            current = space._find(definition)  # same name and conditions
            if current is None or (
                current != definition and space._origin.get(space._key(current)) == _STORED
            ):
                space._put(definition, hp._origin.get(hp._key(definition), "code"))
                changed = True
        if changes:
            self.report_changes(changes)
        if changed:
            self.save_space()

    def _check_first_trial(self, hp: HyperParameters) -> None:
        """Refuse the first trial of a resumed search whose hypermodel registered only names
        that the stored space lacks (its space is known only now: define-by-run)."""
        stored, self._stored_names = self._stored_names, None
        registered = set(getattr(hp, "_registered", ()))
        if stored and registered and not registered & stored:
            trials = self._finished() - 1  # not this one
            if trials:
                raise self._mismatch(trials, _no_common(stored, registered))


def _no_common(stored: set[str], now: set[str]) -> str:
    return (
        f"its space ({', '.join(sorted(stored))}) shares no hyperparameter with this "
        f"search's ({', '.join(sorted(now))})"
    )
