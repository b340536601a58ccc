"""The one search loop (`tunelab.runner`): a trial's error ends it the same way whether it
ran in this process or in a worker, and an error that stops the search is raised as it was."""

from __future__ import annotations

import pytest

import tunelab as kt
from tunelab.errors import SearchSetupError
from tunelab.trial import TrialStatus

KINDS = ["failed", "invalid", "error", "ok", "fine"]


def by_kind(hp):
    kind = hp.Choice("kind", KINDS)
    if kind == "failed":
        raise kt.FailedTrialError("no retry for me")
    if kind == "invalid":
        raise kt.InvalidTrialError("not a valid configuration")
    if kind == "error":
        raise ValueError("a plain error, retried")
    return {"ok": 1.0, "fine": 2.0}[kind]


def ended(tuner):
    return {
        t.hyperparameters.get("kind"): (t.status, t.retries, (t.message or "").splitlines()[-1:])
        for t in tuner.oracle.trials.values()
    }


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_each_error_kind_ends_its_trial_the_same_way_inline_and_in_workers(tmp_path, executor):
    space = kt.HyperParameters()
    space.Choice("kind", KINDS)  # known before the first trial: two run at once in the pool
    tuner = kt.GridSearch(
        by_kind,
        objective="loss",
        hyperparameters=space,
        max_retries_per_trial=1,
        max_consecutive_failed_trials=None,
        directory=tmp_path,
        project_name=executor,
    )
    tuner.search(
        verbose=0, executor=executor, max_parallel_trials=2 if executor != "inline" else None
    )
    assert ended(tuner) == {
        "failed": (TrialStatus.FAILED, 1, ["tunelab.errors.FailedTrialError: no retry for me"]),
        "invalid": (
            TrialStatus.INVALID,
            0,
            ["tunelab.errors.InvalidTrialError: not a valid configuration"],
        ),
        "error": (TrialStatus.FAILED, 1, ["ValueError: a plain error, retried"]),
        "ok": (TrialStatus.COMPLETED, 0, []),
        "fine": (TrialStatus.COMPLETED, 0, []),
    }


class Broken(Exception):
    pass


def test_inline_errors_that_stop_the_search_are_raised_as_they_were(tmp_path):
    raised = []

    def fatal(hp):
        hp.Float("x", 0.0, 1.0)
        error = kt.FatalError("out of disk")
        raised.append(error)
        raise error

    tuner = kt.RandomSearch(fatal, objective="loss", max_trials=3, directory=tmp_path)
    with pytest.raises(kt.FatalError) as caught:
        tuner.search(verbose=0)
    assert caught.value is raised[0]  # the object itself, with its traceback
    [trial] = tuner.oracle.trials.values()
    assert trial.status == TrialStatus.FAILED and "out of disk" in trial.message

    class BadData(SearchSetupError, Broken):
        pass

    def setup(hp):
        hp.Float("x", 0.0, 1.0)
        raise BadData("X has 3 rows, y has 4")

    tuner = kt.RandomSearch(
        setup, objective="loss", max_trials=3, directory=tmp_path, overwrite=True
    )
    with pytest.raises(Broken, match="3 rows"):
        tuner.search(verbose=0)
    [trial] = tuner.oracle.trials.values()
    assert trial.status == TrialStatus.IDLE  # released: it runs when a corrected search starts


def test_a_run_trial_that_ends_its_trial_itself_is_not_told_twice(tmp_path):
    class Reporting(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", 0.0, 1.0)
            self.oracle.update_trial(trial, {"loss": x})
            self.oracle.end_trial(trial)

    tuner = Reporting(objective="loss", max_trials=3, seed=0, directory=tmp_path)
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == [TrialStatus.COMPLETED] * 3
    assert all(t.score == t.hyperparameters.get("x") for t in trials)
