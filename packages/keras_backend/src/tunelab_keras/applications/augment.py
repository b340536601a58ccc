"""`HyperImageAugment`: image augmentation whose transforms' strengths are tuned."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hypermodel import HyperModel
from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.base import check_input, model_input
from tunelab_keras.applications.randaugment import RandAugment, transform_layer

__all__ = ["HyperImageAugment"]

# The step of the factors when every transform is applied in turn (augment_layers=0);
# under RandAugment the factors are continuous. Both as in KerasTuner.
_FIXED_STEP = 0.05


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _factor_range(name: str, value: Any) -> tuple[Any, Any] | None:
    """``x`` -> ``(0, x)``, ``[a, b]`` -> ``(a, b)``, None or 0 -> None (transform off)."""
    if value is None or (_number(value) and value == 0):
        return None
    if _number(value):
        low, high = 0, value
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = value
    else:
        low = high = None
    if not (_number(low) and _number(high) and 0 <= low <= high <= 1):
        raise ValueError(
            f"{name}={value!r}; expected a number in [0, 1] (the search range is 0 to it), a "
            "list of two numbers [min, max] with 0 <= min <= max <= 1, or None to leave this "
            "transform out"
        )
    return low, high


def _layer_range(value: Any) -> tuple[int, int] | None:
    """``n`` -> ``(1, n)``, ``[a, b]`` -> ``(a, b)``, 0 or None -> None (no RandAugment)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value == 0):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = 1, value
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = value
    else:
        low = high = None
    if not (
        all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
        and 0 <= low <= high
    ):
        raise ValueError(
            f"augment_layers={value!r}; expected an int n >= 0 (0: apply every transform in "
            "turn; n: tune 1 to n RandAugment layers) or a list of two ints [min, max] with "
            "0 <= min <= max"
        )
    return low, high


class HyperImageAugment(HyperModel):
    """A model of image augmentation layers whose strengths (factors) are tuned; the output
    has the shape of the input.

    With ``augment_layers=0`` each enabled transform is applied in turn with a tuned factor
    ``factor_<transform>`` (step 0.05; a factor of 0 adds no layer). Otherwise a simple
    RandAugment is used: the number of `RandAugment` layers is tuned as ``augment_layers``,
    and each layer gives every image one transform chosen at random, with the tuned
    continuous factors ``factor_<transform>``. The transforms are random rotation,
    horizontal and vertical translation and contrast, active while training only.

    Parameters
    ----------
    input_shape : tuple of int, optional
        The shape of one image, e.g. ``(32, 32, 3)``. One of `input_shape` and
        `input_tensor` is needed.
    input_tensor : keras tensor, optional
        A ``keras.Input`` (or a tensor computed from one) to augment.
    rotate, translate_x, translate_y, contrast : float, list of two floats, or None
        The search range of each transform's factor, in [0, 1]: a number ``x`` searches
        ``[0, x]``, a list ``[a, b]`` searches ``[a, b]``; None (or 0) leaves the transform
        out. Rotation is a fraction of a full turn, translation a fraction of the width or
        height, contrast a fraction of the contrast range.
    augment_layers : int or list of two ints
        0: apply every transform in turn. ``n``: tune between 1 and ``n`` RandAugment
        layers; ``[a, b]``: between ``a`` and ``b`` (with 0, no augmentation).
    name, tunable
        See `HyperModel`.

    Attributes
    ----------
    transforms : list of (str, (number, number))
        The enabled transforms and their factor ranges, e.g. ``[("rotate", (0, 0.5))]``.
    model_name : str
        ``"image_rand_augment"`` or ``"image_augment"`` (with ``augment_layers=0``).

    Examples
    --------
    >>> import tunelab as kt
    >>> augment = kt.applications.HyperImageAugment(
    ...     input_shape=(8, 8, 1), augment_layers=0, rotate=[0.2, 0.5], translate_x=0.1,
    ...     translate_y=None, contrast=None)
    >>> augment.transforms
    [('rotate', (0.2, 0.5)), ('translate_x', (0, 0.1))]
    >>> hp = kt.HyperParameters()
    >>> augment.build(hp).output_shape, hp.values
    ((None, 8, 8, 1), {'factor_rotate': 0.2, 'factor_translate_x': 0.0})
    """

    def __init__(
        self,
        input_shape: Any = None,
        input_tensor: Any = None,
        rotate: Any = 0.5,
        translate_x: Any = 0.4,
        translate_y: Any = 0.4,
        contrast: Any = 0.3,
        augment_layers: Any = 3,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        self.input_shape = check_input("HyperImageAugment", input_shape, input_tensor)
        self.input_tensor = input_tensor
        self.transforms: list[tuple[str, tuple[Any, Any]]] = []
        for transform, value in (
            ("rotate", rotate),
            ("translate_x", translate_x),
            ("translate_y", translate_y),
            ("contrast", contrast),
        ):
            factor_range = _factor_range(transform, value)
            if factor_range is not None:
                self.transforms.append((transform, factor_range))
        layer_range = _layer_range(augment_layers)
        if layer_range is None:
            self.model_name = "image_augment"
        else:
            self.model_name = "image_rand_augment"
            self.augment_layers_min, self.augment_layers_max = layer_range

    def build(self, hp: HyperParameters) -> Any:
        inputs, x = model_input(self.input_shape, self.input_tensor)
        if self.model_name == "image_rand_augment":
            x = self._rand_augment(hp, x)
        else:
            x = self._each_transform(hp, x)
        return keras.Model(inputs, x, name=self.model_name)

    def _rand_augment(self, hp: HyperParameters, x: Any) -> Any:
        count = hp.Int(
            "augment_layers",
            self.augment_layers_min,
            self.augment_layers_max,
            step=1,
            default=self.augment_layers_min,
        )
        names = [transform for transform, _ in self.transforms]
        for _ in range(count):
            # The factors are registered on the first layer and shared by the others, so
            # with 0 layers none of them is in the space (as in KerasTuner).
            factors = [
                hp.Float(f"factor_{transform}", low, high, default=low)
                for transform, (low, high) in self.transforms
            ]
            x = RandAugment(names, factors)(x)
        return x

    def _each_transform(self, hp: HyperParameters, x: Any) -> Any:
        for transform, (low, high) in self.transforms:
            factor = hp.Float(f"factor_{transform}", low, high, step=_FIXED_STEP, default=low)
            if factor != 0:
                x = transform_layer(transform, factor)(x)
        return x
