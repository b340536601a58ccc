"""`HyperXception`: depthwise-separable convolutions with residual connections, tuned."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.base import ImageHyperModel

__all__ = ["HyperXception"]


class HyperXception(ImageHyperModel):
    """An Xception-style image classifier: an entry convolution, then residual blocks of
    separable convolutions, then dense layers.

    Hyperparameters: ``activation``, ``conv2d_num_filters``, ``kernel_size``,
    ``initial_strides``, ``sep_num_filters``, ``num_residual_blocks``, ``pooling``,
    ``num_dense_layers``, ``dropout_rate``, ``dense_use_bn``, and with the head ``optimizer``
    and ``learning_rate``. The head's loss is ``categorical_crossentropy`` (one-hot labels);
    for integer labels pass ``loss="sparse_categorical_crossentropy"`` to the tuner.

    Parameters
    ----------
    include_top, input_shape, input_tensor, classes
        See `ImageHyperModel`.
    weights : None
        Only None: pretrained weights are never downloaded.

    Examples
    --------
    >>> import tunelab as kt
    >>> hypermodel = kt.applications.HyperXception(input_shape=(28, 28, 1), classes=10)
    >>> hypermodel.build(kt.HyperParameters()).output_shape
    (None, 10)
    """

    def build(self, hp: HyperParameters) -> Any:
        layers = keras.layers
        activation = hp.Choice("activation", ["relu", "selu"], default="relu")
        filters = hp.Choice("conv2d_num_filters", [16, 32, 64], default=32)
        kernel = hp.Choice("kernel_size", [3, 5], default=3)
        strides = hp.Choice("initial_strides", [1, 2], default=2)
        inputs = self._inputs()
        x = layers.Conv2D(filters, kernel, strides=strides, padding="same")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Activation(activation)(x)
        sep_filters = hp.Int("sep_num_filters", 32, 256, step=32, default=64)
        for _ in range(hp.Int("num_residual_blocks", 1, 6, default=2)):
            residual = layers.Conv2D(sep_filters, 1, strides=2, padding="same")(x)
            for _ in range(2):
                x = layers.Activation(activation)(x)
                x = layers.SeparableConv2D(sep_filters, kernel, padding="same")(x)
                x = layers.BatchNormalization()(x)
            x = layers.MaxPooling2D(kernel, strides=2, padding="same")(x)
            x = layers.Add()([x, residual])
        pooling = hp.Choice("pooling", ["avg", "flatten", "max"], default="avg")
        pool = {
            "avg": layers.GlobalAveragePooling2D,
            "flatten": layers.Flatten,
            "max": layers.GlobalMaxPooling2D,
        }
        x = pool[pooling]()(x)
        use_bn = hp.Boolean("dense_use_bn", default=False)
        dropout = hp.Float("dropout_rate", 0.0, 0.5, step=0.1, default=0.0)
        for _ in range(hp.Int("num_dense_layers", 1, 3, default=1)):
            x = layers.Dense(sep_filters, activation=None if use_bn else activation)(x)
            if use_bn:
                x = layers.Activation(activation)(layers.BatchNormalization()(x))
            if dropout > 0:
                x = layers.Dropout(dropout)(x)
        return self._finish(hp, inputs, x, "hyper_xception")
