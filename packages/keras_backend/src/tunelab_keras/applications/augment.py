"""`HyperImageAugment`: image augmentation layers whose strengths are tuned."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hypermodel import HyperModel
from tunelab.hyperparameters import HyperParameters

__all__ = ["HyperImageAugment"]


def _factor(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"{name}={value!r}; expected a float in [0, 1] (the largest factor "
            "tried) or None to leave this augmentation out"
        )
    return float(value)


class HyperImageAugment(HyperModel):
    """A model of random augmentation layers (rotation, translation, contrast), with each
    layer's strength tuned between 0 and the given maximum. Active during training only.

    Hyperparameters: ``augment_rotate``, ``augment_translate_x``, ``augment_translate_y``,
    ``augment_contrast`` (a strength of 0 leaves the layer out).

    Parameters
    ----------
    input_shape : tuple of int, optional
        The shape of one image. One of `input_shape` and `input_tensor` is needed.
    input_tensor : keras tensor, optional
    rotate, translate_x, translate_y, contrast : float or None
        The largest factor tried for each augmentation; None leaves it out.

    Examples
    --------
    >>> import tunelab as kt
    >>> augment = kt.applications.HyperImageAugment(input_shape=(8, 8, 1))
    >>> augment.build(kt.HyperParameters()).output_shape
    (None, 8, 8, 1)
    """

    def __init__(
        self,
        input_shape: Any = None,
        input_tensor: Any = None,
        rotate: float | None = 0.5,
        translate_x: float | None = 0.4,
        translate_y: float | None = 0.4,
        contrast: float | None = 0.3,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        if input_shape is None and input_tensor is None:
            raise ValueError(
                "HyperImageAugment: pass input_shape= (e.g. (28, 28, 1)) or input_tensor="
            )
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.input_tensor = input_tensor
        self.factors = {
            "rotate": _factor("rotate", rotate),
            "translate_x": _factor("translate_x", translate_x),
            "translate_y": _factor("translate_y", translate_y),
            "contrast": _factor("contrast", contrast),
        }

    def build(self, hp: HyperParameters) -> Any:
        layers = keras.layers
        inputs = (
            self.input_tensor
            if self.input_tensor is not None
            else keras.Input(shape=self.input_shape)
        )
        strength = {}
        for name, maximum in self.factors.items():
            if maximum:
                strength[name] = hp.Float(f"augment_{name}", 0.0, maximum, step=0.1, default=0.0)
        x = inputs
        if strength.get("rotate"):
            x = layers.RandomRotation(strength["rotate"])(x)
        tx, ty = strength.get("translate_x", 0.0), strength.get("translate_y", 0.0)
        if tx or ty:
            x = layers.RandomTranslation(ty, tx)(x)
        if strength.get("contrast"):
            x = layers.RandomContrast(strength["contrast"])(x)
        if x is inputs:
            x = layers.Identity()(x)
        return keras.Model(inputs, x, name="hyper_image_augment")
