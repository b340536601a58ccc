"""`HyperResNet`: a residual convolutional network whose depth and widths are tuned."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.base import ImageHyperModel

__all__ = ["HyperResNet"]


def _residual_block(x: Any, filters: int, stride: int, bottleneck: bool, prefix: str) -> Any:
    layers = keras.layers
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, name=f"{prefix}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{prefix}_proj_bn")(shortcut)
    inner = filters // 4 if bottleneck else filters
    y = layers.Conv2D(
        inner, 1 if bottleneck else 3, strides=stride, padding="same", name=f"{prefix}_conv1"
    )(x)
    y = layers.BatchNormalization(name=f"{prefix}_bn1")(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(inner, 3, padding="same", name=f"{prefix}_conv2")(y)
    y = layers.BatchNormalization(name=f"{prefix}_bn2")(y)
    if bottleneck:
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 1, name=f"{prefix}_conv3")(y)
        y = layers.BatchNormalization(name=f"{prefix}_bn3")(y)
    return layers.Activation("relu")(layers.Add()([shortcut, y]))


class HyperResNet(ImageHyperModel):
    """A ResNet-style image classifier with tuned depth, width and head.

    Hyperparameters: ``stem_filters``, ``stages`` (1-4), ``blocks_per_stage`` (1-3),
    ``bottleneck``, ``pooling`` (avg/max), and with the head ``optimizer`` and
    ``learning_rate``. Weights start random (see `check_weights`).

    Parameters
    ----------
    include_top, input_shape, input_tensor, classes
        See `ImageHyperModel`.
    weights : None
        Only None: pretrained weights are never downloaded.

    Examples
    --------
    >>> import tunelab as kt
    >>> hypermodel = kt.applications.HyperResNet(input_shape=(16, 16, 3), classes=4)
    >>> model = hypermodel.build(kt.HyperParameters())
    >>> model.output_shape
    (None, 4)
    """

    def build(self, hp: HyperParameters) -> Any:
        layers = keras.layers
        inputs = self._inputs()
        filters = hp.Choice("stem_filters", [16, 32, 64], default=16)
        x = layers.Conv2D(filters, 3, padding="same", name="stem_conv")(inputs)
        x = layers.BatchNormalization(name="stem_bn")(x)
        x = layers.Activation("relu")(x)
        bottleneck = hp.Boolean("bottleneck", default=False)
        blocks = hp.Int("blocks_per_stage", 1, 3, default=1)
        for stage in range(hp.Int("stages", 1, 4, default=2)):
            width = filters * 2**stage * (4 if bottleneck else 1)
            for block in range(blocks):
                stride = 2 if block == 0 and stage > 0 else 1
                x = _residual_block(x, width, stride, bottleneck, f"stage{stage}_block{block}")
        if hp.Choice("pooling", ["avg", "max"], default="avg") == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        else:
            x = layers.GlobalMaxPooling2D()(x)
        return self._finish(hp, inputs, x, "hyper_resnet")
