"""`HyperEfficientNet`: Keras's EfficientNet B0-B7 with the version, pooling, top dropout
and learning rate tuned, after an optional (hyper)augmentation model."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hypermodel import HyperModel
from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.base import check_classes, check_input, check_weights, model_input

__all__ = ["HyperEfficientNet"]

# Each version's native image size: images are resized to it, as in KerasTuner, so each
# version has the capacity it was designed with whatever the input size.
IMAGE_SIZES = {
    "B0": 224,
    "B1": 240,
    "B2": 260,
    "B3": 300,
    "B4": 380,
    "B5": 456,
    "B6": 528,
    "B7": 600,
}


class HyperEfficientNet(HyperModel):
    """An EfficientNet image classifier (``keras.applications``, random weights), as
    KerasTuner's: images are resized to the version's native size, then a pooling, dropout
    and a softmax over `classes`, compiled with SGD (momentum 0.1).

    Hyperparameters (KerasTuner's names, values and defaults): those of
    `augmentation_model` when it is a HyperModel, then ``version`` (B0-B7, default B0),
    ``pooling`` (avg, max), ``top_dropout_rate`` (0.2-0.8, step 0.2) and
    ``learning_rate`` (0.1, 0.01, 0.001; default 0.01).

    Parameters
    ----------
    input_shape : tuple of int, optional
        The shape of one image, e.g. ``(32, 32, 3)``. One of `input_shape` and
        `input_tensor` is needed.
    input_tensor : keras tensor, optional
        A ``keras.Input`` (or a tensor computed from one) to build on.
    classes : int
        The number of classes.
    augmentation_model : HyperModel or keras.Model, optional
        Applied to the images first; a HyperModel (e.g. `HyperImageAugment`) is built with
        the same hyperparameters, so its own are tuned too.
    include_top : bool
        tunelab only: False stops after the pooling (no dropout, softmax nor compile).
    weights : None
        Only None: pretrained (ImageNet) weights are never downloaded.
    name, tunable
        See `HyperModel`.

    Examples
    --------
    >>> import tunelab as kt
    >>> hypermodel = kt.applications.HyperEfficientNet(input_shape=(32, 32, 3), classes=2)
    >>> hp = kt.HyperParameters()
    >>> hypermodel.build(hp).output_shape, hp.get("version")
    ((None, 2), 'B0')
    """

    def __init__(
        self,
        input_shape: Any = None,
        input_tensor: Any = None,
        classes: int | None = None,
        augmentation_model: Any = None,
        *,
        include_top: bool = True,
        weights: Any = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        check_weights(weights)
        if augmentation_model is not None and not isinstance(
            augmentation_model, (HyperModel, keras.Model)
        ):
            raise ValueError(
                f"augmentation_model={augmentation_model!r}; expected a HyperModel (e.g. "
                "kt.applications.HyperImageAugment), a keras.Model or None"
            )
        if include_top:
            check_classes(classes)
        super().__init__(name=name, tunable=tunable)
        self.input_shape = check_input("HyperEfficientNet", input_shape, input_tensor)
        self.input_tensor = input_tensor
        self.classes = classes
        self.augmentation_model = augmentation_model
        self.include_top = include_top

    def build(self, hp: HyperParameters) -> Any:
        layers = keras.layers
        inputs, x = model_input(self.input_shape, self.input_tensor)
        augment = self.augmentation_model
        if isinstance(augment, HyperModel):
            augment = augment.build(hp)
        if augment is not None:
            x = augment(x)

        version = hp.Choice("version", [f"B{i}" for i in range(8)], default="B0")
        size = IMAGE_SIZES[version]
        x = layers.Resizing(size, size, interpolation="bilinear")(x)
        application = getattr(keras.applications, f"EfficientNet{version}")
        backbone = application(include_top=False, weights=None, input_tensor=x)
        x = backbone.output

        if hp.Choice("pooling", ["avg", "max"], default="avg") == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        else:
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="EfficientNet")
        dropout = hp.Float("top_dropout_rate", 0.2, 0.8, step=0.2, default=0.2)
        x = layers.Dropout(dropout, name="top_dropout")(x)
        outputs = layers.Dense(self.classes, activation="softmax", name="probs")(x)
        model = keras.Model(inputs, outputs, name="EfficientNet")
        self._compile(model, hp)
        return model

    def _compile(self, model: Any, hp: HyperParameters) -> None:
        """Compile `model`; a subclass may override this (KerasTuner's hook) to train
        differently. Registers ``learning_rate``."""
        learning_rate = hp.Choice("learning_rate", [0.1, 0.01, 0.001], default=0.01)
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.1),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
