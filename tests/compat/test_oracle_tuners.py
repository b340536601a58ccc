"""Custom tuners that talk to the oracle as KerasTuner's do: a `run_trial` that reports with
``self.oracle.update_trial``, the fatal errors that stop a search, and `kt.tuners.Tuner`.

Expected values are those KerasTuner 1.4.8 gave for the same code (run with
``import keras_tuner as kt``), unless a comment says the rule is tunelab's.
"""

from __future__ import annotations

import pytest

import tunelab as kt


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0, default=0.3)
    hp.Int("n", 1, 5, default=2)
    return hp


class ReportingSearch(kt.RandomSearch):
    """Reports each step with update_trial and returns nothing."""

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.get("x")
        for step in range(3):
            self.oracle.update_trial(trial.trial_id, {"loss": x / (step + 1)}, step=step)


def test_a_run_trial_that_reports_through_the_oracle(tmp_path):
    tuner = ReportingSearch(
        objective="loss",
        max_trials=3,
        hyperparameters=_space(),
        seed=2,
        directory=tmp_path,
        project_name="reporting",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    # KerasTuner 1.4.8: three COMPLETED trials, each scored by its best (last) step,
    # best_step 2, with the three reported steps in its history.
    assert [t.status for t in trials] == ["COMPLETED"] * 3
    for trial in trials:
        x = trial.hyperparameters.get("x")
        history = trial.metrics.get_history("loss")
        assert [o.step for o in history] == [0, 1, 2]
        assert [o.value[0] for o in history] == pytest.approx([x, x / 2, x / 3])
        assert trial.score == pytest.approx(x / 3)
        assert trial.best_step == 2
    best = tuner.get_best_trials(1)[0]
    assert best.score == min(t.score for t in trials)


class CustomOracleTuner(kt.BaseTuner):
    """A KerasTuner-style BaseTuner subclass over a custom oracle."""

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        self.oracle.update_trial(trial.trial_id, {"loss": hp.get("x") * hp.get("n")})


def test_a_custom_tuner_over_a_custom_oracle(tmp_path):
    class Diagonal(kt.Oracle):
        def populate_space(self, trial_id):
            n = int(trial_id) + 1
            if n > 5:
                return {"status": "STOPPED", "values": None}
            return {"status": "RUNNING", "values": {"x": n / 5, "n": n}}

    oracle = Diagonal(objective="loss", max_trials=8, hyperparameters=_space())
    tuner = CustomOracleTuner(oracle=oracle, directory=tmp_path, project_name="diagonal")
    tuner.search(verbose=0)
    scores = [t.score for t in oracle.trials.values()]
    assert scores == pytest.approx([0.2, 0.8, 1.8, 3.2, 5.0])
    assert tuner.get_best_hyperparameters()[0].values == {"x": 0.2, "n": 1}


@pytest.mark.parametrize(
    ("error", "also"),
    [
        (kt.errors.FatalError, Exception),
        (kt.errors.FatalValueError, ValueError),
        (kt.errors.FatalTypeError, TypeError),
        (kt.errors.FatalRuntimeError, RuntimeError),
    ],
)
def test_a_fatal_error_stops_the_search(tmp_path, error, also):
    ran = []

    class Stops(kt.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            ran.append(trial.trial_id)
            if trial.trial_id == "1":
                raise error("cannot go on")
            return 1.0

    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=4, hyperparameters=_space(), seed=1
    )
    tuner = Stops(oracle=oracle, directory=tmp_path, project_name="fatal")
    # KerasTuner 1.4.8: the error itself reaches the caller (FatalValueError is also a
    # ValueError), and no later trial runs.
    with pytest.raises(error, match="cannot go on") as raised:
        tuner.search(verbose=0)
    assert isinstance(raised.value, also) and isinstance(raised.value, kt.errors.FatalError)
    assert ran == ["0", "1"]
    assert oracle.trials["0"].status == "COMPLETED"
    # tunelab keeps the trial that stopped the search as FAILED with its error (KerasTuner
    # leaves it RUNNING in its files).
    assert oracle.trials["1"].status == "FAILED"
    assert "cannot go on" in oracle.trials["1"].message


def test_failed_trial_error_is_not_retried_and_other_errors_are(tmp_path):
    class Breaks(kt.BaseTuner):
        runs = []

        def run_trial(self, trial, *args, **kwargs):
            self.runs.append(trial.trial_id)
            if trial.trial_id == "0":
                raise kt.errors.FailedTrialError("nope")
            if trial.trial_id == "1":
                raise RuntimeError("boom")
            return 1.0

    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, hyperparameters=_space(), seed=1, max_retries_per_trial=1
    )
    tuner = Breaks(oracle=oracle, directory=tmp_path, project_name="breaks")
    tuner.search(verbose=0)
    # KerasTuner 1.4.8: '0' FAILED at once, '1' run twice then FAILED, '2' COMPLETED.
    assert Breaks.runs == ["0", "1", "1", "2"]
    statuses = {k: t.status for k, t in oracle.trials.items()}
    assert statuses == {"0": "FAILED", "1": "FAILED", "2": "COMPLETED"}
    assert "nope" in oracle.trials["0"].message
    assert "boom" in oracle.trials["1"].message


@pytest.mark.slow  # imports Keras (several seconds; shared with the other Keras tests)
def test_kt_tuners_tuner_is_the_keras_tuner():
    pytest.importorskip("tunelab_keras")
    assert kt.tuners.Tuner is kt.Tuner
    assert kt.Tuner.__name__ == "Tuner"


def test_a_search_goes_through_an_oracle_that_overrides_create_and_end_trial(tmp_path):
    class Logged(kt.oracles.RandomSearchOracle):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.log = []

        @kt.synchronized
        def create_trial(self, tuner_id):
            trial = super().create_trial(tuner_id)
            self.log.append(("create", tuner_id, trial.trial_id, trial.status))
            return trial

        @kt.synchronized
        def end_trial(self, trial):
            self.log.append(("end", trial.trial_id, trial.status, trial.score))
            super().end_trial(trial)
            self.log.append(("ended", trial.trial_id, trial.status, trial.score is not None))

    class Crashes(kt.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            if trial.trial_id == "1":
                raise RuntimeError("boom")
            return {"loss": trial.hyperparameters.get("x")}

    oracle = Logged(
        objective="loss", max_trials=3, hyperparameters=_space(), seed=1, max_retries_per_trial=1
    )
    Crashes(oracle=oracle, directory=tmp_path, project_name="logged").search(verbose=0)
    # KerasTuner 1.4.8 logs the same, except that between its two runs trial '1' reads
    # INVALID where tunelab's reads IDLE (waiting for its retry).
    assert oracle.log[:12] == [
        ("create", "tuner0", "0", "RUNNING"),
        ("end", "0", "COMPLETED", None),
        ("ended", "0", "COMPLETED", True),
        ("create", "tuner0", "1", "RUNNING"),
        ("end", "1", "INVALID", None),
        ("ended", "1", "IDLE", False),
        ("create", "tuner0", "1", "RUNNING"),
        ("end", "1", "INVALID", None),
        ("ended", "1", "FAILED", False),
        ("create", "tuner0", "2", "RUNNING"),
        ("end", "2", "COMPLETED", None),
        ("ended", "2", "COMPLETED", True),
    ]
    # KerasTuner asks once more and gets a STOPPED trial; tunelab's loop may ask again.
    assert set(oracle.log[12:]) == {("create", "tuner0", "3", "STOPPED")}
    assert {k: t.status for k, t in oracle.trials.items()} == {
        "0": "COMPLETED",
        "1": "FAILED",
        "2": "COMPLETED",
    }
