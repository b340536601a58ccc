"""kt.applications: the ready-made image hypermodels build, tune and refuse bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import keras

import tunelab as kt

APPS = kt.applications


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"),
    [
        (APPS.HyperResNet, {"input_shape": (16, 16, 3), "classes": 4}, (None, 4)),
        (APPS.HyperXception, {"input_shape": (28, 28, 1), "classes": 10}, (None, 10)),
        (APPS.HyperImageAugment, {"input_shape": (8, 8, 1)}, (None, 8, 8, 1)),
    ],
)
def test_default_builds(cls, kwargs, shape):
    hp = kt.HyperParameters()
    model = cls(**kwargs).build(hp)
    assert model.output_shape == shape
    assert hp.values  # the hypermodel registered its hyperparameters


def test_input_tensor_and_no_top():
    inputs = keras.Input((12, 12, 3))
    model = APPS.HyperResNet(include_top=False, input_tensor=inputs).build(kt.HyperParameters())
    assert model.inputs[0] is inputs and len(model.output_shape) == 2
    assert not model.compiled


@pytest.mark.slow
def test_efficientnet_with_augmentation_builds_b0_by_default():
    hp = kt.HyperParameters()
    augment = APPS.HyperImageAugment(input_shape=(32, 32, 3), contrast=None)
    model = APPS.HyperEfficientNet(
        input_shape=(32, 32, 3), classes=2, augmentation_model=augment
    ).build(hp)
    assert hp.get("version") == "B0" and "factor_contrast" not in hp.values
    assert "factor_rotate" in hp.values
    assert model.output_shape == (None, 2) and model.compiled


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="weights='imagenet'.*never download"):
        APPS.HyperEfficientNet(input_shape=(32, 32, 3), classes=2, weights="imagenet")
    with pytest.raises(ValueError, match="pass input_shape="):
        APPS.HyperXception(classes=3)
    with pytest.raises(ValueError, match="classes=None"):
        APPS.HyperResNet(input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match=r"input_shape=\(8, -8, 3\)"):
        APPS.HyperResNet(input_shape=(8, -8, 3), classes=2)
    with pytest.raises(ValueError, match="rotate=2"):
        APPS.HyperImageAugment(input_shape=(8, 8, 1), rotate=2)


@pytest.mark.slow
def test_xception_tunes_with_a_loss_override(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((24, 16, 16, 3)).astype("float32")
    y = rng.integers(0, 2, 24)
    hypermodel = APPS.HyperXception(input_shape=(16, 16, 3), classes=2)
    hp = kt.HyperParameters()
    # The same definition as HyperXception's: only the learning rate is tuned, the rest
    # keeps its defaults.
    hp.Choice("learning_rate", [1e-3, 1e-4, 1e-5], default=1e-3)
    tuner = kt.RandomSearch(
        hypermodel,
        hyperparameters=hp,
        tune_new_entries=False,
        loss="sparse_categorical_crossentropy",
        objective="val_accuracy",
        max_trials=1,
        directory=tmp_path,
    )
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    [trial] = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED"
    assert trial.hyperparameters.get("sep_num_filters") == 256
    assert tuner.get_best_models()[0].loss == "sparse_categorical_crossentropy"
