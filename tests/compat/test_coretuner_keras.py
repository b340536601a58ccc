"""A Keras hypermodel is built once when the tuner is created, as KerasTuner 1.4.8 does, so
the space is known before `search`; the trials then build their own models."""

import numpy as np
import pytest

import tunelab as kt

keras = pytest.importorskip("keras")


def test_kt_tuner_builds_a_keras_build_function_at_construction(tmp_path, capsys):
    builds = []

    def build_model(hp):
        builds.append(dict(hp.values))
        model = keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(hp.Int("units", 2, 4, step=2)),
                keras.layers.Dense(1),
            ]
        )
        model.compile(optimizer="sgd", loss="mse")
        return model

    tuner = kt.Tuner(
        kt.oracles.RandomSearchOracle(objective="loss", max_trials=1, seed=0),
        build_model,
        directory=tmp_path,
        project_name="keras",
    )
    assert builds == [{}]  # KerasTuner 1.4.8: one build with the default values
    assert tuner.oracle.get_space().values == {"units": 2}
    tuner.search_space_summary()
    assert "units (Int)" in capsys.readouterr().out
    x = np.zeros((8, 3), "float32")
    tuner.search(x, x[:, 0], epochs=1, verbose=0)
    assert len(builds) == 2  # the trial built its own model
    assert tuner.oracle.get_best_trials(1)[0].status == "COMPLETED"
