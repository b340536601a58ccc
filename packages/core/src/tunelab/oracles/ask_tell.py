"""What an oracle offers its users: ask and tell, reading trials, the queue, and
KerasTuner's names for them. Every method hands over to the oracle's study
(`tunelab.study.Study`), which keeps the books; `tunelab.oracles.base.Oracle` adds the
proposals."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tunelab.checks import check_int
from tunelab.configurations import load_configurations
from tunelab.hyperparameters import HyperParameters
from tunelab.objective import Objective
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.study import Study

__all__ = ["AskTellMethods"]


class AskTellMethods:
    """The public ask/tell methods of `Oracle` (see there)."""

    hyperparameters: HyperParameters
    objective: Objective
    max_trials: int | None
    seed: int | None
    _study: Study | None

    @property
    def study(self) -> Study:  # pragma: no cover - Oracle defines it
        raise NotImplementedError

    def ask(self, tuner_id: str | None = None, detached: bool = False) -> Trial | None:
        """The next trial to run, or None when the search is over.

        A trial whose process died while running it is handed out again first, then trials
        waiting for a retry, then enqueued configurations, then new values from
        `populate_space`.

        Parameters
        ----------
        tuner_id : str, optional
            Who runs the trial (kept with it).
        detached : bool
            The trial runs outside this process (a cluster job, another notebook) and is
            told later, by id, possibly from another process. Such a trial is never handed
            out again when this process exits; `release(trial_id)` gives it back.

        Examples
        --------
        >>> import tunelab as kt
        >>> oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=2)
        >>> oracle.hyperparameters.Float("x", 0.0, 1.0)
        0.0
        >>> trial = oracle.ask(detached=True)
        >>> oracle.tell(trial.trial_id, 0.5)
        """
        return self.study.ask(tuner_id, detached)

    @property
    def waiting(self) -> bool:
        """True after an `ask` that gave None only because running trials must end first."""
        return self._study is not None and self._study.waiting

    def create_trial(self, tuner_id: str | None = None) -> Trial:
        """KerasTuner's name for `ask`: a finished search gives a trial with status STOPPED,
        one that must wait for running trials a trial with status IDLE."""
        trial = self.ask(tuner_id)
        if trial is None:
            status = TrialStatus.IDLE if self.waiting else TrialStatus.STOPPED
            return Trial(self.hyperparameters.copy(), status=status)
        return trial

    def update_trial(self, trial: Trial | str, metrics: Any, step: int = 0) -> str:
        """Record intermediate metrics of a running trial at `step`; returns its status
        (STOPPED when the oracle wants it to stop early)."""
        return self.study.report(trial, metrics, step)

    def tell(
        self,
        trial: Trial | str,
        result: Any = None,
        *,
        status: str | None = None,
        error: BaseException | str | None = None,
    ) -> Trial:
        """Finish a trial with its result.

        Parameters
        ----------
        trial : Trial or str
            The trial, or its id (it may have been asked in another process).
        result : number, dict, list of dicts, or None
            The objective's value, a dict of metrics, or one dict per execution (averaged).
            None: use what was reported with `update_trial` / `trial.report`.
        status : str, optional
            "FAILED", "INVALID", "STOPPED" or "COMPLETED"; default from the result.
        error : exception or str, optional
            For a failed trial: the error (its traceback is kept).

        Telling a finished trial, an unknown id or a malformed result raises and changes
        nothing.
        """
        return self.study.tell(trial, result, status=status, error=error)

    def end_trial(self, trial: Trial, status: str | None = None) -> None:
        """KerasTuner's way to finish a trial whose metrics were sent with `update_trial`."""
        status = status or trial.status
        if status in (TrialStatus.RUNNING, TrialStatus.COMPLETED):
            status = None
        self.tell(trial, status=status, error=trial.message if status == "FAILED" else None)

    def release(self, trial: Trial | str) -> None:
        """Put a running trial (or its id) back to be run again: after Ctrl-C, or for a
        detached trial that will never be told."""
        self.study.release(trial)

    # ------------------------------------------------------------------------------------
    # Reading trials
    # ------------------------------------------------------------------------------------
    def get_trial(self, trial_id: str) -> Trial:
        """The trial with this id, as stored."""
        return self.study.get_trial(trial_id)

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial of the project, by id, in order."""
        return self.study.trials()

    @property
    def ongoing_trials(self) -> dict[str, Trial]:
        return dict(self.study.running)

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The best completed trials, best first (INVALID and FAILED trials never count)."""
        return self.study.best_trials(check_int("num_trials", num_trials, 1))

    def get_space(self) -> HyperParameters:
        """A copy of the search space, with KerasTuner's current values: the defaults of the
        active hyperparameters."""
        finder = self.__dict__.pop("_space_finder", None)
        if finder is not None:
            finder()  # a tuner's hypermodel not built yet (see BaseTuner._populate_initial_space)
        space = self.hyperparameters.copy()
        space.values = {}
        for definition in space.space:
            if space.is_active(definition):
                space.values[definition.name] = definition.default
        return space

    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add definitions found in `hyperparameters` to the search space."""
        for hp in hyperparameters.space:
            if hp.name not in self.hyperparameters._space:
                self.hyperparameters._register(hp)
        self.hyperparameters.values = {}
        with self.study.storage.transaction():
            self.study.save_space()

    def enqueue_trial(self, values: dict[str, Any], skip_if_exists: bool = True) -> bool:
        """Queue a configuration to try before new suggestions.

        Values are checked against the space (a clear ValueError otherwise); names the space
        does not know yet are kept for the hypermodel to register. Left-out hyperparameters
        are chosen by the oracle. Returns False when the same values are already queued or
        tried (and `skip_if_exists`).
        """
        return self.study.enqueue(values, skip_if_exists)

    def enqueue_trials(self, configurations: Iterable[dict[str, Any]] | str | os.PathLike) -> int:
        """Queue several configurations (a list of dicts or a CSV file); returns how many."""
        return sum(self.enqueue_trial(v) for v in load_configurations(configurations))

    # KerasTuner compatibility ----------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "objective": self.objective.get_config(),
            "max_trials": self.max_trials,
            "seed": self.seed,
            "hyperparameters": self.hyperparameters.get_config(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.objective = Objective.from_config(state["objective"])
        self.max_trials = state["max_trials"]
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
