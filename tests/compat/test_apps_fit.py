"""kt.applications, as KerasTuner users write it: the built models compile and train on tiny
images (32 x 32 x 3, four samples, one epoch), and the augmentation acts while training only.

The big backbones (ResNet-50-sized, EfficientNet at 224 x 224) train eagerly here: tracing
their training step as a graph takes about a minute on two busy CPU cores, and eager
execution runs the same layers, optimizer and loss.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import tunelab as kt  # noqa: E402

SHAPE = (32, 32, 3)


def tiny_data(classes=3, n=4):
    rng = np.random.default_rng(0)
    x = rng.random((n, *SHAPE)).astype("float32")
    y = keras.utils.to_categorical(np.arange(n) % classes, classes)
    return x, y


def fit_once(model, eager=False):
    x, y = tiny_data(model.output_shape[-1])
    model.run_eagerly = eager
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    [loss] = history.history["loss"]
    assert np.isfinite(loss)
    return loss


@pytest.mark.slow
def test_xception_default_model_compiles_and_fits():
    model = kt.applications.HyperXception(input_shape=SHAPE, classes=3).build(kt.HyperParameters())
    assert model.compiled
    fit_once(model)


@pytest.mark.slow
def test_resnet_versions_build_and_the_default_fits():
    hypermodel = kt.applications.HyperResNet(input_shape=SHAPE, classes=3)
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)  # v2, the default
    assert model.count_params() == 23_570_947  # KerasTuner 1.4.8's
    fit_once(model, eager=True)
    sizes = {}
    for version in ("v1", "next"):
        hp.values["version"] = version
        model = hypermodel.build(hp)
        sizes[version] = model.count_params()
        assert model.output_shape == (None, 3)
    # KerasTuner 1.4.8's count_params() at conv3_depth=4, conv4_depth=6 (ResNet-50 v1,
    # ResNeXt-50 with 32 groups); v2's is 23_570_947 in both.
    assert sizes == {"v1": 23_593_859, "next": 22_806_851}


@pytest.mark.slow
def test_efficientnet_with_rand_augment_fits():
    augment = kt.applications.HyperImageAugment(input_shape=SHAPE, augment_layers=[1, 2])
    hypermodel = kt.applications.HyperEfficientNet(
        input_shape=SHAPE, classes=3, augmentation_model=augment
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.values["augment_layers"] == 1 and hp.values["version"] == "B0"
    fit_once(model, eager=True)


def augmented_classifier(hp):
    """KerasTuner-style user code: HyperImageAugment in front of a small classifier."""
    inputs = keras.Input(SHAPE)
    augment = kt.applications.HyperImageAugment(
        input_tensor=inputs, augment_layers=[1, 2], rotate=[0.1, 0.3], contrast=None
    ).build(hp)
    x = keras.layers.GlobalAveragePooling2D()(augment.output)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.slow
def test_rand_augment_model_tunes_saves_and_reloads(tmp_path):
    x, y = tiny_data(n=8)
    tuner = kt.RandomSearch(
        augmented_classifier,
        objective="val_accuracy",
        max_trials=1,
        directory=tmp_path,
    )
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    [best_hp] = tuner.get_best_hyperparameters()
    assert best_hp.values["augment_layers"] in (1, 2)
    assert 0.1 <= best_hp.values["factor_rotate"] <= 0.3
    [model] = tuner.get_best_models()
    assert model.predict(x, verbose=0).shape == (8, 3)


def test_augmentation_acts_while_training_only():
    augment = kt.applications.HyperImageAugment(
        input_shape=SHAPE, augment_layers=2, rotate=None, translate_y=None, contrast=None
    )
    hp = kt.HyperParameters()
    augment.build(hp)
    hp.values["augment_layers"] = 2
    hp.values["factor_translate_x"] = 0.4
    model = augment.build(hp)
    x, _ = tiny_data(n=8)
    assert np.array_equal(keras.ops.convert_to_numpy(model(x, training=False)), x)
    shifted = keras.ops.convert_to_numpy(model(x, training=True))
    assert shifted.shape == x.shape and not np.allclose(shifted, x)
