"""What the ready-made hypermodels share: checked inputs, the classification head, compile."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hypermodel import HyperModel
from tunelab.hyperparameters import HyperParameters

__all__ = ["ImageHyperModel", "check_weights"]


def check_weights(weights: Any) -> None:
    """tunelab never downloads pretrained weights (searches often run offline)."""
    if weights is not None:
        raise ValueError(
            f"weights={weights!r}: tunelab's applications are built with random weights and "
            "never download pretrained ones; pass weights=None, and load weights you have on "
            "disk after the search with model.load_weights(path)"
        )


class ImageHyperModel(HyperModel):
    """Base of the image hypermodels: an input (shape or tensor) and, with `include_top`, a
    softmax head over `classes`, compiled with a tuned learning rate.

    Parameters
    ----------
    include_top : bool
        Add the classification head (then `classes` is needed) and compile the model.
    input_shape : tuple of int, optional
        The shape of one image, e.g. ``(28, 28, 1)``. One of `input_shape` and
        `input_tensor` is needed.
    input_tensor : keras tensor, optional
        A ``keras.Input`` to build on.
    classes : int, optional
        The number of classes.
    weights : None
        Only None: pretrained weights are never downloaded (`check_weights`).
    """

    def __init__(
        self,
        include_top: bool = True,
        input_shape: tuple[int, ...] | None = None,
        input_tensor: Any = None,
        classes: int | None = None,
        weights: Any = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        check_weights(weights)
        super().__init__(name=name, tunable=tunable)
        if input_shape is None and input_tensor is None:
            raise ValueError(
                f"{type(self).__name__}: pass input_shape= (e.g. (28, 28, 1)) or input_tensor="
            )
        if input_shape is not None and (
            not isinstance(input_shape, (tuple, list))
            or not all(isinstance(d, int) and d > 0 for d in input_shape)
        ):
            raise ValueError(
                f"input_shape={input_shape!r}; expected a tuple of positive ints such as "
                "(28, 28, 1)"
            )
        if include_top and (
            isinstance(classes, bool) or not isinstance(classes, int) or classes < 1
        ):
            raise ValueError(
                f"classes={classes!r}; with include_top=True, expected the number of classes "
                "(an int >= 1)"
            )
        self.include_top = include_top
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.input_tensor = input_tensor
        self.classes = classes

    def _inputs(self) -> Any:
        if self.input_tensor is not None:
            return self.input_tensor
        return keras.Input(shape=self.input_shape)

    def _finish(self, hp: HyperParameters, inputs: Any, features: Any, name: str) -> Any:
        """Add the head, build the model and compile it (with the head only)."""
        if not self.include_top:
            return keras.Model(inputs, features, name=name)
        outputs = keras.layers.Dense(self.classes, activation="softmax", name="predictions")(
            features
        )
        model = keras.Model(inputs, outputs, name=name)
        optimizer = hp.Choice("optimizer", ["adam", "sgd", "rmsprop"], default="adam")
        learning_rate = hp.Choice("learning_rate", [0.1, 0.01, 0.001], default=0.01)
        optimizers = {
            "adam": keras.optimizers.Adam,
            "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop,
        }
        model.compile(
            optimizer=optimizers[optimizer](learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model
