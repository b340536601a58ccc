"""What a project keeps besides its trials: the search space and the objective.

When a project is opened again, its stored space joins the oracle's (definitions the code
no longer registers stay, changed ones are reported), and finished trials are scored again
if the objective changed. While it runs, hyperparameters that trials register
(define-by-run) join the space and are saved.
"""

from __future__ import annotations

import math
from typing import Any

from tunelab.hyperparameters import _STORED, HyperParameters
from tunelab.objective import Objective
from tunelab.outcomes import objective_score
from tunelab.storage import Storage, StoreError
from tunelab.trial import TrialStatus

__all__ = ["StoredSettings"]


class StoredSettings:
    """The space and objective of `oracle`'s search, kept in `storage`.

    `oracle` is read for ``hyperparameters``, ``objective``, ``seed`` and ``max_trials``.
    """

    def __init__(self, oracle: Any, storage: Storage) -> None:
        self.oracle = oracle
        self.storage = storage
        self._reported_changes: set[str] = set()

    def load(self) -> None:
        """Merge the stored space into the oracle's, rescore if the objective changed, and
        save the search's settings."""
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
        stored_space = storage.get_meta("space")
        if stored_space is not None:
            previous = HyperParameters.from_config({"space": stored_space})
            changes = []
            for hp in previous.space:
                current = space._find(hp)  # same name and conditions
                if current is None:
                    space._put(hp, _STORED)
                elif current != hp:
                    changes.append(f"~ {hp.name}: stored {hp!r} -> now {current!r}")
            self.report_changes(changes)
        stored_objective = storage.get_meta("objective")
        with storage.transaction():
            if stored_objective is not None and stored_objective != oracle.objective.get_config():
                self._rescore(stored_objective)
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

    def _rescore(self, stored_objective: dict[str, Any]) -> None:
        objective = self.oracle.objective
        old = Objective.from_config(stored_objective)
        if repr(old) == repr(objective):  # an objective list saved by an earlier tunelab
            print(
                "Objective lists are now scored as KerasTuner's (the sum to minimize); "
                "scores of finished trials are recomputed."
            )
        else:
            print(
                f"Objective changed since the last run: {old!r} -> {objective!r}; "
                "scores of finished trials are recomputed."
            )
        scores = []
        for stored in self.storage.get_trials((TrialStatus.COMPLETED, TrialStatus.STOPPED)):
            score, best_step = objective_score(objective, stored.metrics)
            status = stored.status if score is not None and math.isfinite(score) else "INVALID"
            scores.append(
                (stored.trial_id, score if status != "INVALID" else None, best_step, status)
            )
        self.storage.rescore(scores)

    def report_changes(self, changes: list[str]) -> None:
        """Print how the space differs from the stored one (each change once)."""
        fresh = [c for c in changes if c not in self._reported_changes]
        if fresh:
            print("The search space differs from the stored one; going on with the new space:")
            for line in fresh:
                print(f"  {line}")
            self._reported_changes.update(fresh)

    def save_space(self) -> None:
        self.storage.set_meta("space", self.oracle.hyperparameters.get_config()["space"])

    def merge_trial_space(self, hp: HyperParameters) -> None:
        """Add what a trial registered while it ran (`hp`, define-by-run) to the space."""
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
