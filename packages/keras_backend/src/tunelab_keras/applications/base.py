"""What the ready-made hypermodels share: checked constructor arguments and the model input."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hypermodel import HyperModel

__all__ = ["ImageHyperModel", "check_classes", "check_input", "check_weights", "model_input"]


def check_weights(weights: Any) -> None:
    """tunelab never downloads pretrained weights (searches often run offline)."""
    if weights is not None:
        raise ValueError(
            f"weights={weights!r}: tunelab's applications are built with random weights and "
            "never download pretrained ones; pass weights=None, and load weights you have on "
            "disk after the search with model.load_weights(path)"
        )


def check_input(owner: str, input_shape: Any, input_tensor: Any) -> tuple[Any, ...] | None:
    """Validate `input_shape`/`input_tensor` (one is needed) and return the shape as a tuple.

    ``None`` dimensions are allowed, as in ``keras.Input`` (e.g. ``(None, None, 3)``).
    """
    if input_shape is None and input_tensor is None:
        raise ValueError(f"{owner}: pass input_shape= (e.g. (28, 28, 1)) or input_tensor=")
    if input_shape is None:
        return None
    if not isinstance(input_shape, (tuple, list)) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in input_shape
    ):
        raise ValueError(
            f"input_shape={input_shape!r}; expected a tuple of positive ints (or None) such as "
            "(28, 28, 1)"
        )
    return tuple(input_shape)


def check_classes(classes: Any, why: str = "with include_top=True") -> None:
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(
            f"classes={classes!r}; {why}, expected the number of classes (an int >= 1)"
        )


def model_input(input_shape: Any, input_tensor: Any) -> tuple[Any, Any]:
    """The model's inputs and the tensor to build on.

    With `input_tensor` the model starts from the inputs that tensor comes from, so a tensor
    that is already the output of some layers keeps those layers in the model.
    """
    if input_tensor is not None:
        sources = keras.utils.get_source_inputs(input_tensor)
        # One input stays a tensor, not a list of one: Keras warns when an array is fed to
        # a model whose inputs are a list.
        return (sources[0] if len(sources) == 1 else sources), input_tensor
    inputs = keras.Input(shape=input_shape)
    return inputs, inputs


class ImageHyperModel(HyperModel):
    """Base of `HyperResNet` and `HyperXception`: an image input (shape or tensor) and,
    with `include_top`, a softmax head over `classes`.

    Parameters
    ----------
    include_top : bool
        Add the classification head (then `classes` is needed) and compile the model.
    input_shape : tuple of int, optional
        The shape of one image, e.g. ``(28, 28, 1)``. One of `input_shape` and
        `input_tensor` is needed.
    input_tensor : keras tensor, optional
        A ``keras.Input`` (or a tensor computed from one) to build on.
    classes : int, optional
        The number of classes.
    weights : None
        Only None: pretrained weights are never downloaded (`check_weights`).
    name, tunable
        See `HyperModel`.
    """

    def __init__(
        self,
        include_top: bool = True,
        input_shape: tuple[int, ...] | None = None,
        input_tensor: Any = None,
        classes: int | None = None,
        *,
        weights: Any = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        check_weights(weights)
        super().__init__(name=name, tunable=tunable)
        self.input_shape = check_input(type(self).__name__, input_shape, input_tensor)
        if include_top:
            check_classes(classes)
        self.include_top = include_top
        self.input_tensor = input_tensor
        self.classes = classes

    def _model_input(self) -> tuple[Any, Any]:
        return model_input(self.input_shape, self.input_tensor)
