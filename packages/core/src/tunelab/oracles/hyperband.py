"""Hyperband (Li et al., JMLR 2018): many configurations on few epochs, the best continued.

One Hyperband iteration runs brackets from the most exploratory (many configurations on
few epochs) to one that trains a few configurations to `max_epochs` straight away; each
round keeps the best of the previous one and trains them `factor` times longer. The rounds
hold as many trials as KerasTuner 1.4's (see `tunelab.oracles.hyperband_brackets`).

A trial's values carry KerasTuner's entries: ``tuner/epochs`` (train up to this epoch),
``tuner/initial_epoch`` (start from this epoch), ``tuner/bracket``, ``tuner/round`` and, for a
trial that continues a configuration of the previous round, ``tuner/trial_id`` (the trial whose
checkpoint it continues from). No epoch is paid twice.

The oracle keeps no state of its own: the brackets are rebuilt from the trial store at each
`ask`, inside the store's write transaction, so several processes can share one search and a
killed search resumes where it stopped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunelab.checks import check_int
from tunelab.hyperparameters import HyperParameters
from tunelab.oracles.base import Oracle
from tunelab.oracles.designs import design_points
from tunelab.oracles.grid import is_finite, iter_grid
from tunelab.oracles.hyperband_brackets import SIZINGS, hyperband_brackets
from tunelab.study import WAIT, Study, value_hash
from tunelab.trial import Trial, TrialStatus

__all__ = ["SIZINGS", "HyperbandOracle", "hyperband_brackets"]

_UNFINISHED = (TrialStatus.RUNNING, TrialStatus.IDLE)
_MAX_ENUMERATION = 200_000


@dataclass
class _Run:
    """A trial as a bracket sees it."""

    trial_id: str
    number: int
    status: str
    score: float | None
    values: dict[str, Any]

    @property
    def completed(self) -> bool:
        return self.status == TrialStatus.COMPLETED and self.score is not None


@dataclass
class _Bracket:
    """One bracket of one iteration, as found in the store."""

    bracket: int
    plan: list[tuple[int, int]]
    rounds: list[list[_Run]] = field(default_factory=list)
    capacity0: int = 0  # round 0's size: the plan's, or fewer for a small finite space

    def slots(self) -> list[int]:
        """How many trials each round may still receive (an upper bound while the previous
        round has unfinished trials)."""
        out: list[int] = []
        for r, (size, _) in enumerate(self.plan):
            if r == 0:
                out.append(max(0, self.capacity0 - len(self.rounds[0])))
                continue
            previous = self.rounds[r - 1]
            waiting = out[-1] + sum(run.status in _UNFINISHED for run in previous)
            limit = size if waiting else min(size, sum(run.completed for run in previous))
            out.append(max(0, limit - len(self.rounds[r])))
        return out


class HyperbandOracle(Oracle):
    """Hyperband: successive halving over brackets of different aggressiveness.

    Parameters
    ----------
    objective : str, Objective or list, optional
        What to optimize.
    max_epochs : int
        The most epochs one configuration is trained.
    factor : int
        Reduction factor (>= 2): each round keeps 1/factor of the trials and trains them
        factor times longer.
    hyperband_iterations : int
        How many times the whole set of brackets is run.
    sizing : {"keras_tuner", "paper"}, optional
        How many trials each round holds (see `hyperband_brackets`): KerasTuner 1.4's
        (the default for a new project), or the paper's. A resumed project keeps the
        sizing it started with unless one is given.
    seed, hyperparameters, allow_new_entries, tune_new_entries, max_retries_per_trial,
    max_consecutive_failed_trials
        See `Oracle`.
    sampler : {"random", "bohb"} or callable, optional
        How new configurations are chosen. None or "random": at random (Hyperband);
        "bohb": from density models of the results at the longest training with enough
        of them (`tunelab.oracles.bohb.BOHBSampler`, BOHB). A callable
        ``sampler(oracle, trial) -> dict or None`` proposes values itself (it can read
        `oracle.budget_results()`); a None result draws at random.
    **kwargs
        `initial_trials`, `initial_design`, `num_initial_points`, `directory`,
        `project_name`, `overwrite` (see `Oracle`). Enqueued configurations start round 0
        of the next brackets.

    Attributes
    ----------
    brackets : list of list of (int, int)
        Each bracket's rounds as (trials, epochs); see `hyperband_brackets`.
    max_trials : int
        The number of trials of the whole search (fewer when trials fail or a finite
        space has fewer configurations than a round needs).
    waiting : bool
        True when the last `ask` returned None because every trial that can start now
        depends on trials still running elsewhere; ask again once one of them is told.

    Examples
    --------
    >>> import tunelab as kt
    >>> oracle = HyperbandOracle(kt.Objective("loss", "min"), max_epochs=9, seed=0)
    >>> while (trial := oracle.ask()) is not None:
    ...     hp = trial.hyperparameters
    ...     x = hp.Float("x", 0.0, 1.0)
    ...     _ = oracle.tell(trial, (x - 0.5) ** 2 + 1.0 / hp.get("tuner/epochs"))
    >>> len(oracle.trials) == oracle.max_trials == 23
    True
    """

    # Enqueued configurations join round 0 (in `_new_configuration`), not ahead of
    # promotions; a promotion repeats its parent's values on purpose.
    places_enqueued_trials = True

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        *,
        sampler: str | Callable[[HyperbandOracle, Trial], dict[str, Any] | None] | None = None,
        sizing: str | None = None,
        **kwargs: Any,
    ) -> None:
        if sizing is not None and sizing not in SIZINGS:
            raise ValueError(f"sizing={sizing!r}; expected one of {list(SIZINGS)} or None")
        if "max_trials" in kwargs:
            raise TypeError(
                "HyperbandOracle does not take max_trials: it follows from "
                "max_epochs, factor and hyperband_iterations"
            )
        if sampler == "bohb":
            from tunelab.oracles.bohb import BOHBSampler

            sampler = BOHBSampler()
        elif sampler == "random":
            sampler = None
        if sampler is not None and not callable(sampler):
            raise TypeError(
                f"sampler={sampler!r}; expected 'random', 'bohb' or a callable "
                "(oracle, trial) -> dict or None"
            )
        self.max_epochs = check_int("max_epochs", max_epochs, 1)
        self.factor = check_int("factor", factor, 2)
        self.hyperband_iterations = check_int("hyperband_iterations", hyperband_iterations, 1)
        self._sizing_given = sizing is not None
        self.sizing = sizing or "keras_tuner"
        self.brackets = hyperband_brackets(self.max_epochs, self.factor, self.sizing)
        self.sampler = sampler
        super().__init__(
            objective=objective,
            max_trials=self._total_trials(),
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **kwargs,
        )
        if self.initial_design != "random" and self.num_initial_points is None:
            self.num_initial_points = self.brackets[0][0][0]

    # ------------------------------------------------------------------------------------
    # The store
    # ------------------------------------------------------------------------------------
    def _total_trials(self) -> int:
        return self.hyperband_iterations * sum(n for b in self.brackets for n, _ in b)

    def on_resume(self, study: Study) -> None:
        stored = study.storage.get_meta("hyperband")
        if stored is not None:
            # Projects from before KerasTuner's sizing became the default stored no sizing.
            stored = {"sizing": "paper", **stored}
            if not self._sizing_given and stored["sizing"] != self.sizing:
                self.sizing = stored["sizing"]
                self.brackets = hyperband_brackets(self.max_epochs, self.factor, self.sizing)
                self.max_trials = self._total_trials()
        settings = {"max_epochs": self.max_epochs, "factor": self.factor, "sizing": self.sizing}
        if stored is not None and stored != settings:
            raise ValueError(
                f"this project's Hyperband search ran with max_epochs={stored['max_epochs']}, "
                f"factor={stored['factor']}, sizing={stored['sizing']!r}; its brackets cannot "
                f"go on with max_epochs={self.max_epochs}, factor={self.factor}, "
                f"sizing={self.sizing!r}. Pass the same values, or overwrite=True / another "
                "project_name to start a new search"
            )
        study.storage.set_meta("hyperband", settings)

    def _bracket_runs(self) -> list[_Bracket]:
        """The brackets started so far, oldest first, rebuilt from the trials in the store.

        Brackets start one after another in the order of the plan, and a bracket's round 0
        is complete before the next bracket starts, so round-0 trials split into brackets
        where the bracket number changes (or the round is full).
        """
        s_max = len(self.brackets) - 1
        runs: list[_Bracket] = []
        where: dict[str, tuple[_Bracket, int]] = {}
        for stored in self.study.storage.get_trials():
            values = stored.values
            s, r = values.get("tuner/bracket"), values.get("tuner/round")
            if not (isinstance(s, int) and isinstance(r, int) and 0 <= r <= s <= s_max):
                continue  # not a Hyperband trial (e.g. from another oracle)
            run = _Run(stored.trial_id, stored.number, stored.status, stored.score, values)
            if r == 0:
                last = runs[-1] if runs else None
                if last is None or last.bracket != s or len(last.rounds[0]) >= last.plan[0][0]:
                    plan = self.brackets[s_max - s]
                    last = _Bracket(s, plan, [[] for _ in plan], plan[0][0])
                    runs.append(last)
                owner = last
            else:
                parent = where.get(values.get("tuner/trial_id"))  # type: ignore[arg-type]
                if parent is None or parent[1] != r - 1:
                    continue
                owner = parent[0]
            owner.rounds[r].append(run)
            where[run.trial_id] = (owner, r)
        for old in runs[:-1]:
            old.capacity0 = len(old.rounds[0])  # a later bracket has started: closed
        if runs:
            runs[-1].capacity0 = self._round0_capacity(runs[-1].plan[0][0])
        return runs

    def _round0_capacity(self, size: int) -> int:
        """`size`, or fewer when the (known, non-empty) space has fewer configurations."""
        space = self.hyperparameters.space
        if not space or not is_finite(space):
            return size
        return sum(1 for _ in itertools.islice(iter_grid(space), size))

    # ------------------------------------------------------------------------------------
    # Choosing the next trial
    # ------------------------------------------------------------------------------------
    def populate_space(self, trial: Trial) -> dict[str, Any] | None:
        """A promotion if one is sure to be in the top 1/factor of its round, else a new
        configuration; `WAIT` when only running trials can unblock the search; None when
        every bracket is done."""
        runs = self._bracket_runs()
        for run in runs:  # finish older brackets first
            slots = run.slots()
            for r in range(len(run.plan) - 1, 0, -1):
                parent = self._promotable(run, r, slots)
                if parent is not None:
                    return self._promotion(parent, run, r)
        if runs and runs[-1].slots()[0] > 0:
            return self._new_configuration(trial, runs[-1], runs)
        if len(runs) < self.hyperband_iterations * len(self.brackets):
            s_max = len(self.brackets) - 1
            s = s_max - len(runs) % len(self.brackets)
            plan = self.brackets[s_max - s]
            fresh = _Bracket(s, plan, [[] for _ in plan], self._round0_capacity(plan[0][0]))
            return self._new_configuration(trial, fresh, runs)
        if any(x.status in _UNFINISHED for run in runs for rows in run.rounds for x in rows):
            return WAIT
        return None

    def _promotable(self, run: _Bracket, r: int, slots: list[int]) -> _Run | None:
        """The best not-yet-promoted trial of round r-1, if it is sure to be in its top
        plan[r] whatever the unfinished trials of that round score.

        Round r-1 must be fully handed out first, as in KerasTuner: promoting earlier gains
        nothing (a new configuration of round r-1 can start instead) and would change the
        order in which a KerasTuner search runs its trials."""
        if slots[r] == 0 or slots[r - 1] > 0:
            return None
        promoted = {x.values.get("tuner/trial_id") for x in run.rounds[r]}
        previous = [x for x in run.rounds[r - 1] if x.completed]
        candidates = sorted((x for x in previous if x.trial_id not in promoted), key=self._rank)
        if not candidates:
            return None
        best = self._rank(candidates[0])
        ahead = sum(self._rank(x) < best for x in previous)
        unknown = slots[r - 1] + sum(x.status in _UNFINISHED for x in run.rounds[r - 1])
        return candidates[0] if ahead + unknown < run.plan[r][0] else None

    def _rank(self, run: _Run) -> tuple[float, int]:
        score = float(run.score)  # type: ignore[arg-type]
        return (-score if self.objective.direction == "max" else score, run.number)

    def _promotion(self, parent: _Run, run: _Bracket, r: int) -> dict[str, Any]:
        values = {k: v for k, v in parent.values.items() if not k.startswith("tuner/")}
        return {
            **values,
            "tuner/epochs": run.plan[r][1],
            "tuner/initial_epoch": run.plan[r - 1][1],
            "tuner/bracket": run.bracket,
            "tuner/round": r,
            "tuner/trial_id": parent.trial_id,
        }

    def _new_configuration(
        self, trial: Trial, run: _Bracket, runs: list[_Bracket]
    ) -> dict[str, Any]:
        entries = {
            "tuner/epochs": run.plan[0][1],
            "tuner/initial_epoch": 0,
            "tuner/bracket": run.bracket,
            "tuner/round": 0,
        }
        queued = self.study.storage.pop_queue()  # inside ask's transaction
        if queued is not None:
            return {**self.study.complete(queued, trial), **entries}
        if self.sampler is not None:
            proposed = self.sampler(self, trial)
            if proposed is not None:
                return {**self.study.complete(dict(proposed), trial), **entries}
        started = sum(len(b.rounds[0]) for b in runs)
        values = self.random_values(trial, self._design_unit(started))
        for _ in range(20):
            if not self.tried({**values, **entries}):
                return {**values, **entries}
            values = self.random_values(trial)
        return {**self._untried_in(trial, run, entries, values), **entries}

    def _design_unit(self, index: int) -> np.ndarray | None:
        """The point of the initial design for the `index`-th new configuration."""
        n, dim = self.num_initial_points, len(self.hyperparameters.space)
        if self.initial_design == "random" or not n or index >= n:
            return None
        cache = getattr(self, "_design", None)
        if cache is None or cache.shape != (n, dim):
            cache = self._design = design_points(self.initial_design, n, dim, self._base_seed)
        return cache[index]

    def _untried_in(
        self, trial: Trial, run: _Bracket, entries: dict[str, Any], fallback: dict[str, Any]
    ) -> dict[str, Any]:
        """For a finite space where random draws keep repeating: a configuration not in this
        bracket yet (preferably not tried anywhere)."""
        space = self.hyperparameters.space
        if not space or not is_finite(space):
            return fallback
        names = set(space.names())
        here = {
            value_hash({k: v for k, v in x.values.items() if k in names}) for x in run.rounds[0]
        }
        fresh = [
            v
            for v in itertools.islice(iter_grid(space), _MAX_ENUMERATION)
            if value_hash(v) not in here
        ]
        untried = [v for v in fresh if not self.tried({**v, **entries})]
        pool = untried or fresh
        if not pool:
            return fallback
        return pool[int(self.rng(trial).integers(len(pool)))]

    # ------------------------------------------------------------------------------------
    # For model-based samplers and reports
    # ------------------------------------------------------------------------------------
    def budget_results(self) -> dict[int, list[tuple[dict[str, Any], float]]]:
        """Completed results by training length: epochs -> [(values, score), ...], values
        without the ``tuner/`` entries."""
        out: dict[int, list[tuple[dict[str, Any], float]]] = {}
        for stored in self.study.storage.get_trials((TrialStatus.COMPLETED,)):
            if stored.score is None:
                continue
            values = stored.values
            epochs = values.get("tuner/epochs")
            if isinstance(epochs, int):
                config = {k: v for k, v in values.items() if not k.startswith("tuner/")}
                out.setdefault(epochs, []).append((config, stored.score))
        return out

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "max_epochs": self.max_epochs,
            "factor": self.factor,
            "hyperband_iterations": self.hyperband_iterations,
            "sizing": self.sizing,
        }
