"""KerasTuner-style `run_trial` overrides: what they return is the trial's result.

The expected values are KerasTuner 1.4.8's, observed by running the same code with
``import keras_tuner as kt`` (engine/tuner_utils.py: `convert_to_metrics_dict`,
`get_best_step`, `validate_trial_results`).
"""

import pytest

import tunelab as kt


class History:
    """Shaped like keras.callbacks.History: a `.history` dict of per-epoch values."""

    def __init__(self, history):
        self.history = history


def run(tmp_path, returned, objective=None, report=None, max_trials=2):
    """Search with a RandomSearch whose run_trial returns `returned(x)`."""

    class MyTuner(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", -1.0, 1.0)
            if report is not None:
                self.oracle.update_trial(trial.trial_id, report, step=0)
            return returned(x)

    tuner = MyTuner(
        objective=objective,
        max_trials=max_trials,
        seed=1,
        directory=tmp_path,
        project_name="run_trial",
        overwrite=True,
    )
    tuner.search(verbose=0)
    return tuner


def history_of(trial):
    return {
        name: [(o.value, o.step) for o in history.get_history()]
        for name, history in trial.metrics.metrics.items()
    }


def best(tuner):
    return tuner.oracle.get_best_trials(1)[0]


def test_a_number_is_the_default_objective_minimized(tmp_path):
    tuner = run(tmp_path, lambda x: 3)
    trial = best(tuner)
    assert tuner.oracle.objective == kt.Objective("default_objective", "min")
    assert history_of(trial) == {"default_objective": [([3.0], 0)]}  # KerasTuner 1.4.8
    assert trial.score == 3.0


def test_a_dict_holds_the_objective_and_other_metrics(tmp_path):
    trial = best(run(tmp_path, lambda x: {"default_objective": 0.5, "other": 1.0}))
    assert trial.score == 0.5
    assert history_of(trial) == {"default_objective": [([0.5], 0)], "other": [([1.0], 0)]}


def test_a_list_is_one_result_per_execution_averaged(tmp_path):
    # KerasTuner 1.4.8: [1.0, 2.0, 4.0] scores 2.3333333333333335.
    assert best(run(tmp_path, lambda x: [1.0, 2.0, 4.0])).score == 2.3333333333333335
    # A metric missing from an execution is averaged over those that have it: a=1, b=3.
    trial = best(
        run(
            tmp_path,
            lambda x: [{"default_objective": 1.0, "a": 1}, {"default_objective": 2.0, "b": 3}],
        )
    )
    assert trial.score == 1.5
    assert trial.metrics.get_best_value("a") == 1.0
    assert trial.metrics.get_best_value("b") == 3.0


def test_a_history_gives_its_best_epoch_at_that_epoch(tmp_path):
    returned = History({"loss": [3.0, 2.0, 1.0], "val_loss": [4.0, 1.5, 2.5]})
    trial = best(run(tmp_path, lambda x: returned, objective="val_loss"))
    # KerasTuner 1.4.8: score 1.5, best_step 1, every metric taken at epoch 1.
    assert (trial.score, trial.best_step) == (1.5, 1)
    assert history_of(trial) == {"loss": [([2.0], 1)], "val_loss": [([1.5], 1)]}


def test_a_history_of_a_maximized_objective(tmp_path):
    returned = History({"val_acc": [0.1, 0.9, 0.5], "loss": [1.0, 2.0, 3.0]})
    objective = kt.Objective("val_acc", "max")
    trial = best(run(tmp_path, lambda x: returned, objective=objective))
    assert (trial.score, trial.best_step) == (0.9, 1)  # KerasTuner 1.4.8
    assert trial.metrics.get_best_value("loss") == 2.0


def test_a_list_of_histories_averages_their_best_epochs(tmp_path):
    returned = [
        History({"val_loss": [4.0, 1.5, 2.5], "loss": [1.0, 1.0, 1.0]}),
        History({"val_loss": [1.0, 3.0, 0.5], "loss": [2.0, 2.0, 2.0]}),
    ]
    trial = best(run(tmp_path, lambda x: returned, objective="val_loss"))
    # KerasTuner 1.4.8: val_loss (1.5 + 0.5) / 2, loss 1.5, at step int(mean(1, 2)) = 1.
    assert (trial.score, trial.best_step) == (1.0, 1)
    assert trial.metrics.get_best_value("loss") == 1.5


def test_a_list_mixing_numbers_dicts_and_histories(tmp_path):
    returned = [0.5, {"val_loss": 1.5}, History({"val_loss": [4.0, 1.0]})]
    trial = best(run(tmp_path, lambda x: returned, objective="val_loss"))
    assert (trial.score, trial.best_step) == (1.0, 0)  # KerasTuner 1.4.8


@pytest.mark.parametrize("returned", ["hello", (1.0, 2.0), [1.0, "x"], True])
def test_an_unusable_return_stops_the_search_with_a_type_error(tmp_path, returned):
    with pytest.raises(TypeError, match=r"MyTuner.run_trial\(\) returned") as raised:
        run(tmp_path, lambda x: returned, max_trials=3)
    assert isinstance(raised.value, kt.FatalError)
    assert "expected a number, a dict of metric name -> number, a Keras History" in str(
        raised.value
    )

    class MyTuner(kt.RandomSearch):  # the project is reopened by the tuner class that made it
        pass

    tuner = MyTuner(lambda hp: 0.0, directory=tmp_path, project_name="run_trial", max_trials=3)
    assert len(tuner.oracle.trials) == 1  # the search stopped at the first trial


def test_none_without_reporting_stops_the_search(tmp_path):
    with pytest.raises(TypeError, match=r"MyTuner.run_trial\(\) returned None and reported"):
        run(tmp_path, lambda x: None)


def test_none_after_update_trial_uses_what_was_reported(tmp_path):
    trial = best(run(tmp_path, lambda x: None, report={"default_objective": 0.7}))
    assert trial.score == 0.7
    assert [
        t.status
        for t in run(
            tmp_path, lambda x: None, report={"default_objective": 0.7}
        ).oracle.trials.values()
    ] == ["COMPLETED", "COMPLETED"]


def test_what_is_returned_after_reporting_is_recorded_one_step_later(tmp_path):
    # KerasTuner 1.4.8 drops the returned 0.1 once the objective was reported (0.7), a path
    # it deprecates; tunelab keeps both, the result one step after the reports (see
    # docs/migration.md), so a final value is not lost.
    trial = best(run(tmp_path, lambda x: 0.1, report={"default_objective": 0.7}))
    assert (trial.score, trial.best_step) == (0.1, 1)
    assert history_of(trial) == {"default_objective": [([0.7], 0), ([0.1], 1)]}


def test_a_dict_without_the_objective_stops_the_search(tmp_path):
    # KerasTuner 1.4.8 raises FatalValueError (a ValueError) naming the objective.
    with pytest.raises(ValueError, match="val_loss"):
        run(tmp_path, lambda x: {"loss": 1.0}, objective="val_loss")


def test_a_number_is_default_objective_with_validation_data_too(tmp_path):
    class MyTuner(kt.RandomSearch):
        def run_trial(self, trial, x, y, validation_data=None, epochs=1, **kwargs):
            return trial.hyperparameters.Float("lr", 0.0, 1.0)

    tuner = MyTuner(max_trials=2, seed=0, directory=tmp_path, project_name="validation")
    tuner.search([1.0], [2.0], validation_data=([1.0], [2.0]), epochs=2, verbose=0)
    assert tuner.oracle.objective == kt.Objective("default_objective", "min")
    assert list(best(tuner).metrics.metrics) == ["default_objective"]


def test_histories_are_converted_in_worker_processes(tmp_path):
    class MyTuner(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", 0.0, 1.0)
            return History({"val_loss": [x + 1.0, x, x + 2.0]})

    tuner = MyTuner(
        objective="val_loss",
        max_trials=2,
        seed=0,
        directory=tmp_path,
        project_name="pool",
        executor="process",
        max_parallel_trials=2,
    )
    tuner.search(verbose=0)
    for trial in tuner.oracle.trials.values():
        assert trial.score == trial.hyperparameters.values["x"]
        assert trial.best_step == 1
