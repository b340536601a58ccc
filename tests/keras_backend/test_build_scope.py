"""With a distribution strategy (or mixed precision), a trial's model is built once, in it."""

from __future__ import annotations

import pytest
from conftest import build_classifier, keras, make_data

import tunelab as kt


def _counting_build(built):
    def build(hp):
        model = build_classifier(hp)
        built.append(model)
        return model

    return build


@pytest.mark.parametrize(("backend", "builds"), [("keras", 4), (None, 4)])
def test_a_strategy_trial_builds_its_model_once_in_the_scope(tmp_path, backend, builds):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute strategies need the TensorFlow backend")
    import tensorflow as tf

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    x, y = make_data(40)
    built: list = []
    tuner = kt.RandomSearch(
        _counting_build(built),
        objective="loss",
        max_trials=3,
        seed=0,
        distribution_strategy=strategy,
        directory=tmp_path,
        backend=backend,
    )
    tuner.search(x, y, epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3
    # backend="keras": the tuner builds the function once at construction to find its space
    # (as KerasTuner does), then every trial's model in the scope; else the first trial's
    # first model is built before the tuner knows its backend, and built again in the scope
    assert len(built) == builds
    assert all(m._distribute_strategy is strategy for m in built[builds - 3 :])


def test_a_hyperband_trial_builds_its_model_once_in_the_scope(tmp_path):
    # Hyperband's trials go through the same run_trial as every tuner's: one build per
    # trial, in the strategy's scope (a copy of run_trial without the scope built 11 models
    # for 6 trials).
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute strategies need the TensorFlow backend")
    import tensorflow as tf

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    x, y = make_data(40)
    built: list = []
    tuner = kt.Hyperband(
        _counting_build(built),
        objective="loss",
        max_epochs=3,
        factor=3,
        seed=0,
        distribution_strategy=strategy,
        directory=tmp_path,
        backend="keras",
    )
    tuner.search(x, y, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * len(trials)
    # One build at construction (the space, as KerasTuner does), then one per trial.
    assert len(built) == len(trials) + 1 > 4
    assert all(m._distribute_strategy is strategy for m in built[1:])
