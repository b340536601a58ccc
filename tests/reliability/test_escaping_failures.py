"""Failures that used to escape the search loop and leave their trial RUNNING: an objective
value too large for a float (10**400) and sys.exit() inside the objective."""

import sys

import pytest

import tunelab as kt


def _tuner(tmp_path, function, name):
    return kt.RandomSearch(
        function, objective="loss", max_trials=4, seed=1, directory=tmp_path, project_name=name
    )


def test_an_objective_too_large_for_a_float_ends_invalid_and_the_search_goes_on(tmp_path):
    def huge_when_x_is_high(hp):
        x = hp.Float("x", 0.0, 1.0)
        return 10**400 if x > 0.5 else x

    tuner = _tuner(tmp_path, huge_when_x_is_high, "huge")
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 4
    for trial in trials:
        if trial.hyperparameters.get("x") > 0.5:
            assert trial.status == "INVALID"
            assert trial.message == "objective value inf is not finite"
        else:
            assert trial.status == "COMPLETED"
            assert trial.score == trial.hyperparameters.get("x")
    assert any(t.status == "INVALID" for t in trials)


def test_a_huge_reported_step_is_recorded_as_infinite(tmp_path):
    def reports(hp, trial):
        trial.report(-(10**400), step=0)
        return {"loss": hp.Float("x", 0.0, 1.0)}

    tuner = _tuner(tmp_path, reports, "report")
    tuner.search(verbose=0)
    trial = next(iter(tuner.oracle.trials.values()))
    assert trial.metrics.get_history("loss")[0].value == [float("-inf")]


def test_sys_exit_in_the_objective_releases_the_trial_and_stops(tmp_path):
    def exits(hp):
        if hp.Float("x", 0.0, 1.0) > 0.3:
            sys.exit(3)
        return hp.get("x")

    tuner = _tuner(tmp_path, exits, "exit")
    with pytest.raises(SystemExit) as stopped:
        tuner.search(verbose=0)
    assert stopped.value.code == 3
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert "RUNNING" not in statuses and statuses[-1] == "IDLE"  # it runs again on resume
