"""KerasTuner user code from the seed documents, run with `import tunelab as kt` (or
`import tunelab as keras_tuner`) on tiny data made with numpy or TensorFlow.

The code is the seeds' own; only the data (generated, small), the epochs and the number of
trials are smaller, and the projects live in a temporary folder.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

import tunelab as keras_tuner
import tunelab as kt


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def seed000_build_model(hp):
    model = keras.Sequential()
    model.add(layers.Flatten())
    model.add(layers.Dense(units=hp.Int("units", min_value=32, max_value=128, step=32, default=64)))
    if hp.Boolean("dropout"):
        model.add(layers.Dropout(rate=0.25))
    model.add  # noqa: B018 (as in the seed)
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.mark.slow
def test_seed_000_tailor_the_search_space(capsys):
    # The seed's shapes, with 40 training images instead of 100 (faster).
    x_train = np.random.rand(40, 28, 28, 1)
    y_train = np.random.randint(0, 10, (40, 1))
    x_val = np.random.rand(20, 28, 28, 1)
    y_val = np.random.randint(0, 10, (20, 1))

    hp = keras_tuner.HyperParameters()
    hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    tuner = keras_tuner.RandomSearch(
        hypermodel=seed000_build_model,
        hyperparameters=hp,
        tune_new_entries=False,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="search_a_few",
    )
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    out = capsys.readouterr().out
    assert "Trial 3 Complete" in out and "Best val_accuracy So Far:" in out
    tuner.search_space_summary()
    assert capsys.readouterr().out.startswith(
        "Search space summary\nDefault search space size: 1\nlearning_rate (Float)\n"
    )

    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", value=1e-4)
    tuner = keras_tuner.RandomSearch(
        seed000_build_model,
        hyperparameters=hp,
        tune_new_entries=True,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="fix_a_few",
    )
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    capsys.readouterr()
    tuner.search_space_summary()
    summary = capsys.readouterr().out
    assert "Default search space size: 3" in summary
    assert "learning_rate (Fixed)\n{'conditions': [], 'value': 0.0001}" in summary

    tuner = keras_tuner.RandomSearch(
        seed000_build_model,
        optimizer=keras.optimizers.Adam(1e-3),
        loss="mse",
        metrics=["sparse_categorical_crossentropy"],
        objective="val_loss",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="override_compile",
    )
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    assert tuner.get_best_models()[0].loss == "mse"
    assert "WARNING" not in capsys.readouterr().err

    hypermodel = keras_tuner.applications.HyperXception(input_shape=(28, 28, 1), classes=10)
    hp = keras_tuner.HyperParameters()
    hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    tuner = keras_tuner.RandomSearch(
        hypermodel,
        hyperparameters=hp,
        tune_new_entries=False,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="helloworld",
    )
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert out.endswith(
        "Search space summary\nDefault search space size: 1\nlearning_rate (Choice)\n"
        "{'default': 0.01, 'conditions': [], 'values': [0.01, 0.001, 0.0001], "
        "'ordered': True}\n"
    )
    assert len(tuner.oracle.trials) == 3  # three values: the grid of one Choice


@pytest.mark.slow
def test_seed_001_overview_bayesian_tensorboard(capsys):
    SEED = 42
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(150, 6)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype("float32")
    X_train, X_test, y_train, y_test = X[:120], X[120:], y[:120], y[120:]

    def build_model(hp: keras_tuner.HyperParameters):
        model = keras.Sequential()
        hp_units = hp.Int("units", min_value=8, max_value=64, step=8)
        model.add(keras.layers.Dense(units=hp_units, activation="relu"))
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        hp_learning_rate = hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=hp_learning_rate),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    tuner = keras_tuner.BayesianOptimization(
        build_model,
        objective="val_accuracy",
        max_trials=3,
        seed=SEED,
        max_retries_per_trial=3,
        directory="random_search",
        project_name="titanic",
        overwrite=True,
    )
    tuner.search_space_summary()
    assert "units (Int)" in capsys.readouterr().out
    tuner.search(
        X_train,
        y_train,
        epochs=2,
        validation_split=0.2,
        callbacks=[keras.callbacks.TensorBoard("./random_search/tb_logs")],
    )
    best_model = tuner.get_best_models(num_models=1)[0]
    # The seed's `best_model.build(X_train.shape)` is left out: Keras 3 refuses to build a
    # built Sequential model again with another batch size (with KerasTuner too).
    best_model.summary()
    tuner.results_summary()
    out = capsys.readouterr().out
    assert "Results summary\nResults in random_search/titanic\nShowing 10 best trials\n" in out
    assert 'Objective(name="val_accuracy", direction="max")' in out
    score = best_model.evaluate(X_test, y_test, verbose=0)
    assert len(score) == 2 and 0.0 <= score[1] <= 1.0
    # One TensorBoard folder per trial, with the trial's hyperparameters for HParams.
    logs = sorted(os.listdir("random_search/tb_logs"))
    assert logs == sorted(t.trial_id for t in tuner.oracle.trials.values())
    for trial_id in logs:
        folder = os.path.join("random_search/tb_logs", trial_id, "execution0")
        assert os.path.isdir(os.path.join(folder, "train"))
        assert os.path.isdir(os.path.join(folder, "validation"))
        assert any(name.startswith("events.out") for name in os.listdir(folder))


@pytest.mark.slow
def test_seed_003_executions_per_trial_and_best_trials(capsys):
    def build_model(hp):
        model = keras.Sequential()
        model.add(
            keras.layers.Conv2D(
                filters=hp.Int("conv_1_filter", min_value=32, max_value=128, step=16),
                kernel_size=3,
                activation="relu",
                input_shape=(28, 28, 1),
            )
        )
        model.add(keras.layers.MaxPooling2D(pool_size=(2, 2)))
        model.add(keras.layers.Flatten())
        model.add(
            keras.layers.Dense(
                units=hp.Int("dense_units", min_value=64, max_value=512, step=64),
                activation="relu",
            )
        )
        model.add(keras.layers.Dense(10, activation="softmax"))
        lr = hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    tuner = kt.RandomSearch(
        build_model,
        objective="val_accuracy",
        max_trials=2,
        executions_per_trial=2,
        directory="my_dir",
        project_name="mnist_cnn",
    )
    x_train = np.random.rand(60, 28, 28).astype("float32")
    y_train = np.random.randint(0, 10, 60)
    x_train = x_train.reshape(-1, 28, 28, 1)
    tuner.search(x_train, y_train, epochs=1, validation_split=0.2, batch_size=32)

    best_trials = tuner.get_best_trials(num_trials=5)
    for trial in best_trials:
        print(f"Trial ID: {trial.trial_id}")
        print(f"Hyperparameters: {trial.hyperparameters.values}")
        print(f"Validation Accuracy: {trial.metrics.metrics['val_accuracy'].value[0]}")
        print("---")
    out = capsys.readouterr().out
    assert out.count("Validation Accuracy:") == 2
    for trial in best_trials:
        # Two executions, each value kept; the score is their mean.
        values = trial.metrics.metrics["val_accuracy"].value
        assert len(values) == 2 and trial.score == pytest.approx(np.mean(values))


@pytest.mark.slow
def test_seed_004_initial_trials_through_the_public_api():
    def build_model(hp):
        return tf.keras.models.Sequential(
            [
                tf.keras.layers.Dense(
                    hp.Int("units", min_value=32, max_value=512, step=32),
                    activation="relu",
                    input_shape=(10,),
                ),
                tf.keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    initial_trials = {"trial_1": {"units": 64}, "trial_2": {"units": 256}}
    tuner = keras_tuner.RandomSearch(
        build_model,
        initial_trials=list(initial_trials.values()),
        loss="binary_crossentropy",  # the seed's model is not compiled
        objective="val_loss",
        max_trials=3,
        directory="my_dir",
        project_name="my_project",
    )
    x = tf.random.normal((100, 10))
    y = tf.random.uniform((100, 1)) > 0.5
    tuner.search(x=x, y=tf.cast(y, "float32"), validation_split=0.2)
    units = [t.hyperparameters.get("units") for t in tuner.oracle.trials.values()]
    assert units[:2] == [64, 256] and len(units) == 3
    assert tuner.get_best_hyperparameters()[0].get("units") in units
