"""The Keras backend through the core tuners: fit arguments, objectives, executions,
checkpoints, compile overrides and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import build_classifier, keras, make_data

import tunelab as kt
from tunelab.errors import FatalError


def test_search_reports_every_epoch_and_keeps_best_epoch_weights(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(
        build_classifier,
        objective="val_accuracy",
        max_trials=2,
        seed=0,
        executions_per_trial=2,
        directory=tmp_path,
        project_name="p",
    )
    tuner.search(x, y, epochs=3, validation_split=0.25, batch_size=16, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    for trial in trials:
        histories = json.loads((tuner.get_trial_dir(trial.trial_id) / "histories.json").read_text())
        assert len(histories) == 2  # each execution's history is kept
        assert all(len(h["val_accuracy"]) == 3 for h in histories)
        observed = trial.metrics.get_history("val_accuracy")
        assert [o.step for o in observed] == [0, 1, 2]
        # Per epoch, one value per execution; the score is the best epoch of their mean.
        means = [np.mean([h["val_accuracy"][e] for h in histories]) for e in range(3)]
        assert [o.value for o in observed] == [
            [h["val_accuracy"][e] for h in histories] for e in range(3)
        ]
        assert trial.score == pytest.approx(max(means))
    best = tuner.oracle.get_best_trials(1)[0]
    histories = json.loads((tuner.get_trial_dir(best.trial_id) / "histories.json").read_text())
    best_execution_value = max(max(h["val_accuracy"]) for h in histories)
    model = tuner.get_best_models(1)[0]
    _, accuracy = model.evaluate(x[90:], y[90:], verbose=0)
    # The saved weights are those of the best epoch of the best execution.
    assert accuracy == pytest.approx(best_execution_value, abs=1e-6)


def test_tf_data_datasets_and_custom_objective(tmp_path, data):
    x, y = data
    train = tf.data.Dataset.from_tensor_slices((x[:90], y[:90])).batch(30)
    val = tf.data.Dataset.from_tensor_slices((x[90:], y[90:])).batch(30)
    tuner = kt.RandomSearch(
        build_classifier,
        objective=kt.Objective("val_loss", "min"),
        max_trials=2,
        seed=1,
        directory=tmp_path,
    )
    tuner.search(train, epochs=2, validation_data=val, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    values = [o.mean() for o in best.metrics.get_history("val_loss")]
    assert best.score == min(values) and best.best_step == values.index(min(values))
    loss, _ = tuner.get_best_models()[0].evaluate(val, verbose=0)
    assert loss == pytest.approx(best.score, rel=1e-5)


def test_default_objective_is_val_loss(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(build_classifier, max_trials=1, directory=tmp_path)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert tuner.oracle.objective == kt.Objective("val_loss", "min")
    trial = tuner.oracle.get_best_trials(1)[0]
    assert trial.score == trial.metrics.get_best_value("val_loss")


def test_compile_overrides_and_uncompiled_models(tmp_path, data):
    x, y = data

    def uncompiled(hp):
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 4)), keras.layers.Dense(3)]
        )

    with pytest.raises(FatalError, match="not compiled"):
        kt.RandomSearch(uncompiled, objective="loss", max_trials=1, directory=tmp_path).search(
            x, y, epochs=1, verbose=0
        )
    optimizer = keras.optimizers.SGD(0.05)
    tuner = kt.RandomSearch(
        build_classifier,
        objective="val_loss",
        max_trials=2,
        optimizer=optimizer,
        loss="mse",
        metrics=["mae"],
        directory=tmp_path,
        project_name="override",
    )
    onehot = np.eye(3, dtype="float32")[y]
    tuner.search(x, onehot, epochs=1, validation_split=0.25, verbose=0)
    model = tuner.get_best_models()[0]
    assert model.loss == "mse"
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert "val_mae" in tuner.oracle.get_best_trials(1)[0].metrics.metrics
    assert not optimizer.built  # each model got its own copy of the optimizer


def test_max_model_size_makes_trials_invalid(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(
        build_classifier,
        objective="loss",
        max_trials=2,
        max_model_size=10,
        directory=tmp_path,
    )
    tuner.search(x, y, epochs=1, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["INVALID", "INVALID"]
    assert "more than max_model_size=10" in trials[0].message


def test_objective_never_logged_lists_the_logged_metrics(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(build_classifier, objective="val_auc", max_trials=1, directory=tmp_path)
    # A callback of the user's may log metrics of its own: the objective is looked for in
    # what training logged.
    own = keras.callbacks.LambdaCallback()
    with pytest.raises(FatalError, match=r"never logged.*'accuracy', 'loss', 'val_accuracy'"):
        tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0, callbacks=[own])


def test_misspelled_objective_stops_before_the_first_epoch(tmp_path, data):
    x, y = data
    log = tmp_path / "epochs.csv"  # Keras's CSVLogger opens it when training begins
    # (A bare "val_acuracy" is refused when the tuner is made: its direction is unknown.)
    objective = kt.Objective("val_acuracy", direction="max")
    tuner = kt.RandomSearch(build_classifier, objective=objective, max_trials=3, directory=tmp_path)
    with pytest.raises(
        FatalError,
        match=r"objective 'val_acuracy' is not among the metrics the compiled model logs: "
        r"accuracy, loss, val_accuracy, val_loss — did you mean 'val_accuracy'\?",
    ):
        tuner.search(
            x[:16], y[:16], epochs=1, validation_split=0.25, verbose=0,
            callbacks=[keras.callbacks.CSVLogger(str(log))],
        )  # fmt: skip
    assert not log.exists()  # no training began
    assert [t.status for t in tuner.oracle.trials.values()] == ["IDLE"]  # to run once fixed


def test_val_objective_without_validation_data(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(
        build_classifier, objective="val_accuracy", max_trials=1, directory=tmp_path
    )
    with pytest.raises(FatalError, match="validation_data= nor validation_split="):
        tuner.search(x, y, epochs=1, verbose=0)


def test_build_returning_none_fails_the_trial_with_a_clear_message(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(
        lambda hp: None,
        objective="loss",
        max_trials=1,
        directory=tmp_path,
    )
    tuner.search(x, y, epochs=1, verbose=0)
    [trial] = tuner.oracle.trials.values()
    assert trial.status == "FAILED" and "returned None" in trial.message


def test_nan_loss_makes_the_trial_invalid_and_the_search_goes_on(tmp_path, data):
    x, y = data

    def build(hp):
        model = build_classifier(hp)
        if hp.Boolean("explode"):
            model.compile(
                optimizer=keras.optimizers.SGD(1e30), loss="sparse_categorical_crossentropy"
            )
        return model

    tuner = kt.RandomSearch(build, objective="loss", max_trials=4, seed=3, directory=tmp_path)
    tuner.oracle.enqueue_trial({"explode": True})
    tuner.oracle.enqueue_trial({"explode": False})
    tuner.search(x * 1e6, y, epochs=2, verbose=0)
    assert len(tuner.oracle.trials) == 4
    statuses = {t.hyperparameters.values["explode"]: t.status for t in tuner.oracle.trials.values()}
    assert statuses[True] == "INVALID" and statuses[False] == "COMPLETED"


def test_only_the_best_trials_keep_their_model(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(
        build_classifier,
        objective="val_loss",
        max_trials=4,
        seed=2,
        keep_best_models=2,
        directory=tmp_path,
    )
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    saved = sorted(p.parent.name for p in tuner.project_dir.glob("trial_*/model.keras"))
    best = [f"trial_{t.trial_id}" for t in tuner.oracle.get_best_trials(2)]
    assert saved == sorted(best)
    assert len(tuner.get_best_models(2)) == 2
    with pytest.raises(FileNotFoundError):
        tuner.get_best_models(3)


def test_bad_backend_arguments(tmp_path):
    with pytest.raises(ValueError, match="executions_per_trial=0; expected an int >= 1"):
        kt.Tuner(
            kt.oracles.RandomSearchOracle(max_trials=1),
            build_classifier,
            executions_per_trial=0,
            directory=tmp_path,
        )
    with pytest.raises(ValueError, match="trial_isolation='thread'"):
        kt.Tuner(
            kt.oracles.RandomSearchOracle(max_trials=1),
            build_classifier,
            trial_isolation="thread",
            directory=tmp_path,
        )
    with pytest.raises(TypeError, match="distribution_strategy=3"):
        kt.Tuner(
            kt.oracles.RandomSearchOracle(max_trials=1),
            build_classifier,
            distribution_strategy=3,
            directory=tmp_path,
        )


def test_hyperband_continues_from_the_parent_model(tmp_path):
    x, y = make_data(90)
    tuner = kt.Hyperband(
        build_classifier,
        objective="val_accuracy",
        max_epochs=3,
        factor=3,
        seed=0,
        directory=tmp_path,
    )
    tuner.search(x, y, validation_split=0.2, verbose=0)
    trials = list(tuner.oracle.trials.values())
    continued = [t for t in trials if t.hyperparameters.values.get("tuner/trial_id")]
    assert continued
    for trial in continued:
        values = trial.hyperparameters.values
        steps = [o.step for o in trial.metrics.get_history("val_accuracy")]
        # Trained from the parent's epoch onward, not from scratch.
        assert steps == list(range(values["tuner/initial_epoch"], values["tuner/epochs"]))
    # Hyperband keeps every trial's model (later rounds load them).
    assert len(list(tuner.project_dir.glob("trial_*/model.keras"))) == len(trials)


def test_mixed_precision_builds_in_mixed_float16_and_restores_the_policy(tmp_path, data):
    x, y = data
    tuner = kt.RandomSearch(
        build_classifier, objective="loss", max_trials=1, mixed_precision=True, directory=tmp_path
    )
    tuner.search(x, y, epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    model = tuner.get_best_models()[0]
    assert model.layers[0].dtype_policy.name == "mixed_float16"
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_precision_keeps_a_float32_output_layer(tmp_path, data):
    x, y = data

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Int("units", 2, 8, step=2), activation="relu"),
                keras.layers.Dense(3, activation="softmax", dtype="float32"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    tuner = kt.RandomSearch(
        build, objective="loss", max_trials=1, mixed_precision=True, directory=tmp_path
    )
    tuner.search(x, y, epochs=1, verbose=0)
    model = tuner.get_best_models()[0]
    assert model.layers[0].dtype_policy.name == "mixed_float16"
    assert model.layers[0].compute_dtype == "float16"
    assert model.layers[-1].dtype_policy.name == "float32"
    assert str(model.predict(x[:2], verbose=0).dtype) == "float32"
    assert keras.config.dtype_policy().name == "float32"
