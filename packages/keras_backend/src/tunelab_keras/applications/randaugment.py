"""The augmentation transforms `HyperImageAugment` tunes, and `RandAugment`, the layer that
applies one of them, picked at random, to each image of a batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

__all__ = ["TRANSFORMS", "RandAugment", "transform_layer"]

# Each transform's Keras layer for a factor (the strength KerasTuner calls the factor: a
# fraction of a full turn, of the width or height, or of the contrast range).
TRANSFORMS: dict[str, Callable[[float], keras.layers.Layer]] = {
    "rotate": lambda factor: keras.layers.RandomRotation(factor),
    "translate_x": lambda factor: keras.layers.RandomTranslation(0.0, factor),
    "translate_y": lambda factor: keras.layers.RandomTranslation(factor, 0.0),
    "contrast": lambda factor: keras.layers.RandomContrast(factor),
}


def transform_layer(transform: str, factor: float) -> keras.layers.Layer:
    """The layer applying `transform` (a key of `TRANSFORMS`) with strength `factor`."""
    return TRANSFORMS[transform](factor)


@keras.saving.register_keras_serializable(package="tunelab")
class RandAugment(keras.layers.Layer):
    """One RandAugment step (Cubuk et al., 2019, simplified as in KerasTuner): each image of
    a batch gets one of `transforms`, chosen uniformly at random per image, while training.

    A transform whose factor is 0 is still drawn, and then leaves the image unchanged, so
    the chance of each other transform does not depend on which factors are 0.

    Parameters
    ----------
    transforms : list of str
        Names from `TRANSFORMS`.
    factors : list of float
        One factor per transform.
    seed : int, optional
        Seed of the per-image choice.
    """

    def __init__(
        self,
        transforms: list[str],
        factors: list[float],
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if len(transforms) != len(factors):
            raise ValueError(
                f"RandAugment: {len(transforms)} transforms ({transforms!r}) but "
                f"{len(factors)} factors ({factors!r}); expected one factor per transform"
            )
        unknown = [t for t in transforms if t not in TRANSFORMS]
        if unknown:
            raise ValueError(
                f"RandAugment: transforms={unknown!r}; expected names from {list(TRANSFORMS)}"
            )
        self.transforms = list(transforms)
        self.factors = [float(f) for f in factors]
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Built once here, not in call(): a layer made inside call() would be made again at
        # each trace and would not be tracked.
        self.transform_layers = [
            (index, transform_layer(name, factor))
            for index, (name, factor) in enumerate(zip(self.transforms, self.factors, strict=True))
            if factor != 0
        ]

    def build(self, input_shape: Any) -> None:
        for _, layer in self.transform_layers:
            layer.build(input_shape)
        super().build(input_shape)

    def call(self, inputs: Any, training: bool = True) -> Any:
        if not training or not self.transform_layers:
            return inputs
        ops = keras.ops
        batch = ops.shape(inputs)[0]
        # One draw per image, in [0, len(transforms)); the shape broadcasts over the image.
        draw = keras.random.uniform(
            (batch,) + (1,) * (len(inputs.shape) - 1),
            maxval=len(self.transforms),
            seed=self.seed_generator,
        )
        chosen = ops.cast(ops.floor(draw), "int32")
        x = inputs
        for index, layer in self.transform_layers:
            x = ops.where(ops.equal(chosen, index), layer(x, training=True), x)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"transforms": self.transforms, "factors": self.factors, "seed": self.seed})
        return config
