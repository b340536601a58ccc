"""`HyperXception`: an Xception-style network (separable convolutions with residual
connections) whose widths, depth, pooling and head are tuned."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.base import ImageHyperModel

__all__ = ["HyperXception"]

# SELU layers keep their self-normalising property only with LeCun-normal weights, so the
# "selu" variants use that initializer and no batch normalization.
_SELU = {"activation": "selu", "kernel_initializer": "lecun_normal"}


def _conv_block(x: Any, filters: int, kernel: int, strides: int, activation: str) -> Any:
    layers = keras.layers
    if activation == "selu":
        return layers.Conv2D(filters, kernel, strides=strides, padding="same", **_SELU)(x)
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def _separable_block(x: Any, filters: int, kernel: int, activation: str) -> Any:
    layers = keras.layers
    if activation == "selu":
        return layers.SeparableConv2D(
            filters,
            kernel,
            padding="same",
            activation="selu",
            depthwise_initializer="lecun_normal",
            pointwise_initializer="lecun_normal",
        )(x)
    x = layers.SeparableConv2D(filters, kernel, padding="same", use_bias=False)(x)
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def _residual_block(x: Any, filters: int, activation: str, downsample: bool) -> Any:
    """Two 3x3 separable convolutions plus a shortcut; `downsample` halves the image with a
    3x3 max-pooling (and a strided 1x1 convolution on the shortcut).

    ``kernel_size`` is only the entry convolution's: KerasTuner's residual blocks are 3x3.
    """
    layers = keras.layers
    if downsample:
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same")(x)
    elif x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, padding="same")(x)
    else:
        shortcut = x
    x = _separable_block(x, filters, 3, activation)
    x = _separable_block(x, filters, 3, activation)
    if downsample:
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    return layers.Add()([x, shortcut])


def _dense_block(x: Any, units: int, activation: str, batchnorm: Any, dropout: float) -> Any:
    layers = keras.layers
    if activation == "selu":
        # KerasTuner's SELU head skips batch normalization whatever dense_use_bn says.
        x = layers.Dense(units, **_SELU)(x)
    else:
        x = layers.Dense(units, activation="relu")(x)
        if batchnorm:
            x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return x


class HyperXception(ImageHyperModel):
    """An Xception-style image classifier (as KerasTuner's): an entry convolution,
    residual blocks of separable convolutions, an exit block that halves the image, a
    pooling, and with `include_top` dense layers and a softmax, compiled with Adam.

    Hyperparameters (KerasTuner's names, ranges and defaults): ``activation``,
    ``conv2d_num_filters``, ``kernel_size``, ``initial_strides``, ``sep_num_filters``,
    ``num_residual_blocks``, ``pooling``, and with the head ``num_dense_layers``,
    ``dropout_rate``, ``dense_use_bn`` and ``learning_rate``. The loss is
    ``categorical_crossentropy`` (one-hot labels); for integer labels pass
    ``loss="sparse_categorical_crossentropy"`` to the tuner.

    Parameters
    ----------
    include_top : bool
        Add the dense layers and the softmax over `classes`, and compile.
    input_shape : tuple of int, optional
        The shape of one image, e.g. ``(32, 32, 3)``. One of `input_shape` and
        `input_tensor` is needed.
    input_tensor : keras tensor, optional
        A ``keras.Input`` (or a tensor computed from one) to build on.
    classes : int, optional
        The number of classes (needed with `include_top`).
    weights : None
        Only None: pretrained weights are never downloaded.
    name, tunable
        See `HyperModel`.

    Examples
    --------
    >>> import tunelab as kt
    >>> hypermodel = kt.applications.HyperXception(input_shape=(28, 28, 1), classes=10)
    >>> hp = kt.HyperParameters()
    >>> hypermodel.build(hp).output_shape, hp.get("sep_num_filters")
    ((None, 10), 256)
    """

    def build(self, hp: HyperParameters) -> Any:
        layers = keras.layers
        activation = hp.Choice("activation", ["relu", "selu"], default="relu")
        inputs, x = self._model_input()
        filters = hp.Choice("conv2d_num_filters", [32, 64, 128], default=64)
        kernel = hp.Choice("kernel_size", [3, 5], default=3)
        strides = hp.Choice("initial_strides", [2], default=2)
        x = _conv_block(x, filters, kernel, strides, activation)

        sep_filters = hp.Int("sep_num_filters", 128, 768, step=128, default=256)
        for _ in range(hp.Int("num_residual_blocks", 2, 8, step=1, default=4)):
            x = _residual_block(x, sep_filters, activation, downsample=False)
        x = _residual_block(x, 2 * sep_filters, activation, downsample=True)

        pooling = hp.Choice("pooling", ["avg", "flatten", "max"], default="avg")
        pool = {
            "avg": layers.GlobalAveragePooling2D,
            "flatten": layers.Flatten,
            "max": layers.GlobalMaxPooling2D,
        }
        x = pool[pooling]()(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="Xception")

        num_dense_layers = hp.Int("num_dense_layers", 1, 3, step=1)
        dropout = hp.Float("dropout_rate", 0.0, 0.6, step=0.1, default=0.5)
        # KerasTuner declares [True, False] and its Choice turns them into the ints 1 and 0
        # (bools are ints), an ordered choice; 1/0 here gives the same space and values.
        batchnorm = hp.Choice("dense_use_bn", [1, 0], default=1)
        for _ in range(num_dense_layers):
            # The hidden layers are as wide as the output, as in KerasTuner.
            x = _dense_block(x, self.classes, activation, batchnorm, dropout)
        outputs = layers.Dense(self.classes, activation="softmax")(x)
        model = keras.Model(inputs, outputs, name="Xception")
        learning_rate = hp.Choice("learning_rate", [1e-3, 1e-4, 1e-5], default=1e-3)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model
