"""kt.applications, as KerasTuner users write it: each hypermodel's search space.

The expected spaces are KerasTuner 1.4.8's, observed by building each hypermodel with a
fresh ``HyperParameters`` under KerasTuner (HyperEfficientNet with its backbone's weights
set to None, since KerasTuner downloads ImageNet weights) and reading ``hp.space``. Each
entry is (name, type, config without name and conditions). KerasTuner prints an int Float
default such as ``0`` as given; the values compare equal.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import tunelab as kt  # noqa: E402

# KerasTuner 1.4.8: HyperXception(input_shape=(32, 32, 3), classes=3).
XCEPTION = [
    ("activation", "Choice", {"default": "relu", "values": ["relu", "selu"], "ordered": False}),
    ("conv2d_num_filters", "Choice", {"default": 64, "values": [32, 64, 128], "ordered": True}),
    ("kernel_size", "Choice", {"default": 3, "values": [3, 5], "ordered": True}),
    ("initial_strides", "Choice", {"default": 2, "values": [2], "ordered": True}),
    (
        "sep_num_filters",
        "Int",
        {"default": 256, "min_value": 128, "max_value": 768, "step": 128, "sampling": "linear"},
    ),
    (
        "num_residual_blocks",
        "Int",
        {"default": 4, "min_value": 2, "max_value": 8, "step": 1, "sampling": "linear"},
    ),
    (
        "pooling",
        "Choice",
        {"default": "avg", "values": ["avg", "flatten", "max"], "ordered": False},
    ),
    (
        "num_dense_layers",
        "Int",
        {"default": None, "min_value": 1, "max_value": 3, "step": 1, "sampling": "linear"},
    ),
    (
        "dropout_rate",
        "Float",
        {"default": 0.5, "min_value": 0.0, "max_value": 0.6, "step": 0.1, "sampling": "linear"},
    ),
    # KerasTuner declares [True, False]; its Choice stores them as the ints 1 and 0.
    ("dense_use_bn", "Choice", {"default": 1, "values": [1, 0], "ordered": True}),
    (
        "learning_rate",
        "Choice",
        {"default": 0.001, "values": [0.001, 0.0001, 1e-05], "ordered": True},
    ),
]

# KerasTuner 1.4.8: tuner.search_space_summary() of a RandomSearch over
# HyperXception(input_shape=(32, 32, 3), classes=3), line for line.
XCEPTION_SUMMARY = """\
Search space summary
Default search space size: 11
activation (Choice)
{'default': 'relu', 'conditions': [], 'values': ['relu', 'selu'], 'ordered': False}
conv2d_num_filters (Choice)
{'default': 64, 'conditions': [], 'values': [32, 64, 128], 'ordered': True}
kernel_size (Choice)
{'default': 3, 'conditions': [], 'values': [3, 5], 'ordered': True}
initial_strides (Choice)
{'default': 2, 'conditions': [], 'values': [2], 'ordered': True}
sep_num_filters (Int)
{'default': 256, 'conditions': [], 'min_value': 128, 'max_value': 768, 'step': 128, 'sampling': 'linear'}
num_residual_blocks (Int)
{'default': 4, 'conditions': [], 'min_value': 2, 'max_value': 8, 'step': 1, 'sampling': 'linear'}
pooling (Choice)
{'default': 'avg', 'conditions': [], 'values': ['avg', 'flatten', 'max'], 'ordered': False}
num_dense_layers (Int)
{'default': None, 'conditions': [], 'min_value': 1, 'max_value': 3, 'step': 1, 'sampling': 'linear'}
dropout_rate (Float)
{'default': 0.5, 'conditions': [], 'min_value': 0.0, 'max_value': 0.6, 'step': 0.1, 'sampling': 'linear'}
dense_use_bn (Choice)
{'default': 1, 'conditions': [], 'values': [1, 0], 'ordered': True}
learning_rate (Choice)
{'default': 0.001, 'conditions': [], 'values': [0.001, 0.0001, 1e-05], 'ordered': True}
"""

# KerasTuner 1.4.8: HyperResNet(input_shape=(32, 32, 3), classes=3).
RESNET = [
    ("version", "Choice", {"default": "v2", "values": ["v1", "v2", "next"], "ordered": False}),
    ("conv3_depth", "Choice", {"default": 4, "values": [4, 8], "ordered": True}),
    ("conv4_depth", "Choice", {"default": 6, "values": [6, 23, 36], "ordered": True}),
    ("pooling", "Choice", {"default": "avg", "values": ["avg", "max"], "ordered": False}),
    (
        "optimizer",
        "Choice",
        {"default": "adam", "values": ["adam", "rmsprop", "sgd"], "ordered": False},
    ),
    ("learning_rate", "Choice", {"default": 0.01, "values": [0.1, 0.01, 0.001], "ordered": True}),
]

# KerasTuner 1.4.8: HyperEfficientNet(input_shape=(32, 32, 3), classes=3).
EFFICIENTNET = [
    (
        "version",
        "Choice",
        {"default": "B0", "values": [f"B{i}" for i in range(8)], "ordered": False},
    ),
    ("pooling", "Choice", {"default": "avg", "values": ["avg", "max"], "ordered": False}),
    (
        "top_dropout_rate",
        "Float",
        {"default": 0.2, "min_value": 0.2, "max_value": 0.8, "step": 0.2, "sampling": "linear"},
    ),
    ("learning_rate", "Choice", {"default": 0.01, "values": [0.1, 0.01, 0.001], "ordered": True}),
]


def _factor(name, low, high, step=None):
    config = {"default": low, "min_value": low, "max_value": high, "step": step}
    return (f"factor_{name}", "Float", {**config, "sampling": "linear"})


def _layers(low, high):
    config = {"default": low, "min_value": low, "max_value": high, "step": 1}
    return ("augment_layers", "Int", {**config, "sampling": "linear"})


# KerasTuner 1.4.8: HyperImageAugment(input_shape=(32, 32, 3)), the defaults (RandAugment,
# 1 to 3 layers, continuous factors).
AUGMENT_DEFAULT = [
    _layers(1, 3),
    _factor("rotate", 0, 0.5),
    _factor("translate_x", 0, 0.4),
    _factor("translate_y", 0, 0.4),
    _factor("contrast", 0, 0.3),
]
# KerasTuner 1.4.8: augment_layers=0, rotate=[0.2, 0.5], translate_x=0.1, translate_y=None,
# contrast=None (every transform in turn, factors on a 0.05 grid).
AUGMENT_EACH = [_factor("rotate", 0.2, 0.5, 0.05), _factor("translate_x", 0, 0.1, 0.05)]
# KerasTuner 1.4.8: augment_layers=[2, 4], contrast=None.
AUGMENT_RANGE = [
    _layers(2, 4),
    _factor("rotate", 0, 0.5),
    _factor("translate_x", 0, 0.4),
    _factor("translate_y", 0, 0.4),
]


def space_of(hp):
    return [
        (
            h.name,
            type(h).__name__,
            {k: v for k, v in h.get_config().items() if k not in ("name", "conditions")},
        )
        for h in hp.space
    ]


def built_space(hypermodel):
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    return space_of(hp), model


def test_xception_space_and_summary_are_kerastuners(tmp_path, capsys):
    tuner = kt.RandomSearch(
        kt.applications.HyperXception(input_shape=(32, 32, 3), classes=3),
        objective="val_accuracy",
        max_trials=1,
        directory=tmp_path,
    )
    capsys.readouterr()
    tuner.search_space_summary()
    assert capsys.readouterr().out.splitlines() == XCEPTION_SUMMARY.splitlines()
    assert space_of(tuner.oracle.get_space()) == XCEPTION


def test_xception_without_top_stops_at_the_pooling():
    space, model = built_space(
        kt.applications.HyperXception(include_top=False, input_shape=(32, 32, 3))
    )
    assert space == XCEPTION[:7]  # KerasTuner 1.4.8: the head's four are not registered
    assert model.name == "Xception" and model.output_shape == (None, 512)  # 2 x sep_num_filters
    assert not model.compiled


@pytest.mark.parametrize(
    ("values", "params"),
    [
        # KerasTuner 1.4.8's count_params() for the same values, input (32, 32, 3), 3 classes.
        ({}, 1_056_027),
        (
            {"activation": "selu", "pooling": "flatten", "num_dense_layers": 2, "dense_use_bn": 0},
            1_143_387,
        ),
        (
            {
                "num_dense_layers": 3,
                "kernel_size": 5,
                "sep_num_filters": 128,
                "num_residual_blocks": 2,
                "conv2d_num_filters": 32,
            },
            203_467,
        ),
    ],
)
def test_xception_architecture_matches_kerastuners(values, params):
    hypermodel = kt.applications.HyperXception(input_shape=(32, 32, 3), classes=3)
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    hp.values.update(values)
    assert hypermodel.build(hp).count_params() == params


def test_resnet_space():
    space, model = built_space(kt.applications.HyperResNet(input_shape=(32, 32, 3), classes=3))
    assert space == RESNET
    assert model.name == "ResNet" and model.output_shape == (None, 3)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.loss == "categorical_crossentropy"


def test_efficientnet_space_with_a_hyper_augmentation_first():
    augment = kt.applications.HyperImageAugment(input_shape=(32, 32, 3), augment_layers=0)
    hypermodel = kt.applications.HyperEfficientNet(
        input_shape=(32, 32, 3), classes=3, augmentation_model=augment
    )
    space, model = built_space(hypermodel)
    # KerasTuner 1.4.8: the augmentation's factors come first, then EfficientNet's own.
    each = [_factor(name, 0, high, 0.05) for name, (_, high) in augment.transforms]
    assert space == each + EFFICIENTNET
    assert model.name == "EfficientNet" and model.output_shape == (None, 3)
    assert model.count_params() == 4_053_414  # KerasTuner 1.4.8's (B0, 3 classes)
    # The images are resized to B0's 224 x 224 before the backbone, as in KerasTuner.
    assert any(
        isinstance(layer, keras.layers.Resizing) and layer.height == 224 for layer in model.layers
    )
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.momentum) == pytest.approx(0.1)


def test_efficientnet_takes_a_keras_model_as_augmentation():
    inputs = keras.Input((32, 32, 3))
    flip = keras.Model(inputs, keras.layers.RandomFlip()(inputs))
    space, _ = built_space(
        kt.applications.HyperEfficientNet(
            input_shape=(32, 32, 3), classes=3, augmentation_model=flip
        )
    )
    assert space == EFFICIENTNET
    with pytest.raises(ValueError, match="augmentation_model="):
        kt.applications.HyperEfficientNet(
            input_shape=(32, 32, 3), classes=3, augmentation_model="flip"
        )


@pytest.mark.parametrize(
    ("kwargs", "expected", "model_name"),
    [
        ({}, AUGMENT_DEFAULT, "image_rand_augment"),
        (
            {
                "augment_layers": 0,
                "rotate": [0.2, 0.5],
                "translate_x": 0.1,
                "translate_y": None,
                "contrast": None,
            },
            AUGMENT_EACH,
            "image_augment",
        ),
        ({"augment_layers": [2, 4], "contrast": None}, AUGMENT_RANGE, "image_rand_augment"),
        # KerasTuner 1.4.8: with 0 layers as the default, no factor is registered.
        ({"augment_layers": [0, 2], "rotate": [0.2, 0.5]}, [_layers(0, 2)], "image_rand_augment"),
    ],
)
def test_image_augment_spaces(kwargs, expected, model_name):
    space, model = built_space(kt.applications.HyperImageAugment(input_shape=(32, 32, 3), **kwargs))
    assert space == expected
    assert model.name == model_name and model.output_shape == (None, 32, 32, 3)


def test_image_augment_transforms_attribute():
    # KerasTuner 1.4.8's .transforms: (name, (min, max)) in registration order; a single
    # number x is the range (0, x); None or 0 leaves the transform out.
    augment = kt.applications.HyperImageAugment(
        input_shape=(32, 32, 3), rotate=0, translate_x=[0, 0.3], translate_y=None, contrast=1
    )
    assert augment.transforms == [("translate_x", (0, 0.3)), ("contrast", (0, 1))]
    assert kt.applications.HyperImageAugment(input_shape=(8, 8, 1)).transforms == [
        ("rotate", (0, 0.5)),
        ("translate_x", (0, 0.4)),
        ("translate_y", (0, 0.4)),
        ("contrast", (0, 0.3)),
    ]


def test_image_augment_a_zero_factor_adds_no_layer():
    augment = kt.applications.HyperImageAugment(input_shape=(16, 16, 3), augment_layers=0)
    hp = kt.HyperParameters()
    model = augment.build(hp)
    # Every factor defaults to 0: no transform layer at all.
    assert [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)] == []
    hp.values["factor_rotate"] = 0.25
    model = augment.build(hp)
    [rotation] = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert isinstance(rotation, keras.layers.RandomRotation) and rotation.factor == (-0.25, 0.25)


def test_image_augment_on_an_input_tensor():
    inputs = keras.Input((16, 16, 3))
    model = kt.applications.HyperImageAugment(input_tensor=inputs).build(kt.HyperParameters())
    assert model.inputs[0] is inputs


def test_missing_arguments_are_refused():
    apps = kt.applications
    for cls in (apps.HyperResNet, apps.HyperXception, apps.HyperEfficientNet):
        with pytest.raises(ValueError, match="classes=None"):
            cls(input_shape=(32, 32, 3))
        with pytest.raises(ValueError, match="input_shape="):
            cls(classes=3)
    with pytest.raises(ValueError, match="input_shape="):
        apps.HyperImageAugment()
    with pytest.raises(ValueError, match=r"augment_layers='3'"):
        apps.HyperImageAugment(input_shape=(8, 8, 1), augment_layers="3")
    with pytest.raises(ValueError, match=r"rotate=\[0.1, 0.2, 0.3\]"):
        apps.HyperImageAugment(input_shape=(8, 8, 1), rotate=[0.1, 0.2, 0.3])


def _first_definition_wins() -> bool:
    hp = kt.HyperParameters()
    hp.Choice("x", ["b"])
    try:
        return hp.Choice("x", ["a", "b"]) == "b"
    except ValueError:
        return False


@pytest.mark.xfail(
    not _first_definition_wins(),
    reason="needs the core's 'a hyperparameter registered first wins' (issue 18, space)",
    raises=ValueError,
    strict=True,
)
def test_a_pre_registered_hyperparameter_overrides_the_applications():
    hp = kt.HyperParameters()
    hp.Choice("pooling", ["flatten"])
    model = kt.applications.HyperXception(include_top=False, input_shape=(32, 32, 3)).build(hp)
    # KerasTuner 1.4.8: the user's "pooling" stays first and only; the model flattens.
    names = [h.name for h in hp.space]
    assert names == ["pooling"] + [name for name, _, _ in XCEPTION[:7] if name != "pooling"]
    assert isinstance(model.layers[-1], keras.layers.Flatten)
    assert model.output_shape == (None, 8 * 8 * 512)
