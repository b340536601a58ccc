"""`HyperResNet`: ResNet v1, ResNet v2 or ResNeXt, with the depth of two stages tuned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.base import ImageHyperModel

__all__ = ["HyperResNet"]

_OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
}


def _channel_axis() -> int:
    return -1 if keras.config.image_data_format() == "channels_last" else 1


def _bn(x: Any, name: str) -> Any:
    # The epsilon of the published ResNets (and of keras.applications).
    return keras.layers.BatchNormalization(axis=_channel_axis(), epsilon=1.001e-5, name=name)(x)


def _relu(x: Any, name: str) -> Any:
    return keras.layers.Activation("relu", name=name)(x)


def _v1_block(x: Any, filters: int, stride: int, project: bool, name: str) -> Any:
    """Post-activation bottleneck (He et al., 2015): 1x1, 3x3, 1x1 to 4 x `filters`."""
    conv = keras.layers.Conv2D
    shortcut = x
    if project:
        shortcut = _bn(
            conv(4 * filters, 1, strides=stride, name=f"{name}_proj")(x), f"{name}_proj_bn"
        )
    x = _relu(
        _bn(conv(filters, 1, strides=stride, name=f"{name}_conv1")(x), f"{name}_bn1"),
        f"{name}_relu1",
    )
    x = conv(filters, 3, padding="same", name=f"{name}_conv2")(x)
    x = _relu(_bn(x, f"{name}_bn2"), f"{name}_relu2")
    x = _bn(conv(4 * filters, 1, name=f"{name}_conv3")(x), f"{name}_bn3")
    return _relu(keras.layers.Add(name=f"{name}_add")([shortcut, x]), f"{name}_out")


def _v2_block(x: Any, filters: int, stride: int, project: bool, name: str) -> Any:
    """Pre-activation bottleneck (He et al., 2016): normalization and ReLU come first."""
    layers = keras.layers
    pre = _relu(_bn(x, f"{name}_pre_bn"), f"{name}_pre_relu")
    if project:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_proj")(pre)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride, name=f"{name}_skip_pool")(x)
    else:
        shortcut = x
    y = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv1")(pre)
    y = _relu(_bn(y, f"{name}_bn1"), f"{name}_relu1")
    y = layers.ZeroPadding2D(1, name=f"{name}_pad")(y)
    y = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_conv2")(y)
    y = _relu(_bn(y, f"{name}_bn2"), f"{name}_relu2")
    y = layers.Conv2D(4 * filters, 1, name=f"{name}_conv3")(y)
    return layers.Add(name=f"{name}_add")([shortcut, y])


_GROUPS = 32


def _next_block(x: Any, filters: int, stride: int, project: bool, name: str) -> Any:
    """ResNeXt bottleneck (Xie et al., 2017): the 3x3 convolution in 32 groups, output
    2 x `filters` wide."""
    layers = keras.layers
    width = (64 // _GROUPS) * filters
    shortcut = x
    if project:
        shortcut = layers.Conv2D(width, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = _bn(shortcut, f"{name}_proj_bn")
    y = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv1")(x)
    y = _relu(_bn(y, f"{name}_bn1"), f"{name}_relu1")
    y = layers.ZeroPadding2D(1, name=f"{name}_pad")(y)
    y = layers.Conv2D(
        filters, 3, strides=stride, groups=_GROUPS, use_bias=False, name=f"{name}_conv2"
    )(y)
    y = _relu(_bn(y, f"{name}_bn2"), f"{name}_relu2")
    y = _bn(layers.Conv2D(width, 1, use_bias=False, name=f"{name}_conv3")(y), f"{name}_bn3")
    return _relu(layers.Add(name=f"{name}_add")([shortcut, y]), f"{name}_out")


Block = Callable[[Any, int, int, bool, str], Any]


def _stage(x: Any, block: Block, filters: int, blocks: int, stride: int, name: str) -> Any:
    """`blocks` blocks; the first projects the shortcut and takes the stride (v1, ResNeXt)."""
    x = block(x, filters, stride, True, f"{name}_block1")
    for i in range(2, blocks + 1):
        x = block(x, filters, 1, False, f"{name}_block{i}")
    return x


def _v2_stage(x: Any, filters: int, blocks: int, stride: int, name: str) -> Any:
    """ResNet v2 stages project in the first block and take the stride in the last."""
    x = _v2_block(x, filters, 1, True, f"{name}_block1")
    for i in range(2, blocks):
        x = _v2_block(x, filters, 1, False, f"{name}_block{i}")
    return _v2_block(x, filters, stride, False, f"{name}_block{blocks}")


# Per version, the width (bottleneck filters) and first stride of the four stages. v1's
# first stage keeps the size the max-pooling left; v2 and ResNeXt halve it (v2 in its last
# block), and their last stage keeps it. These are KerasTuner's (and the papers') choices.
_STAGES = {
    "v1": ((64, 128, 256, 512), (1, 2, 2, 2)),
    "v2": ((64, 128, 256, 512), (2, 2, 2, 1)),
    "next": ((64, 256, 512, 1024), (2, 2, 2, 1)),
}


class HyperResNet(ImageHyperModel):
    """A ResNet image classifier (as KerasTuner's): the version (ResNet v1, v2 or ResNeXt),
    the depth of the third and fourth stages, the pooling, and with `include_top` the
    optimizer and learning rate are tuned.

    Hyperparameters (KerasTuner's names, values and defaults): ``version`` (v1, v2, next;
    default v2), ``conv3_depth`` (4, 8), ``conv4_depth`` (6, 23, 36), ``pooling`` (avg,
    max), and with the head ``optimizer`` (adam, rmsprop, sgd) and ``learning_rate`` (0.1,
    0.01, 0.001; default 0.01). The loss is ``categorical_crossentropy`` (one-hot labels);
    for integer labels pass ``loss="sparse_categorical_crossentropy"`` to the tuner.

    Parameters
    ----------
    include_top : bool
        Add the softmax over `classes` and compile.
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
    >>> hypermodel = kt.applications.HyperResNet(input_shape=(32, 32, 3), classes=4)
    >>> hp = kt.HyperParameters()
    >>> hypermodel.build(hp).output_shape, hp.get("version")
    ((None, 4), 'v2')
    """

    def build(self, hp: HyperParameters) -> Any:
        layers = keras.layers
        version = hp.Choice("version", ["v1", "v2", "next"], default="v2")
        conv3_depth = hp.Choice("conv3_depth", [4, 8], default=4)
        conv4_depth = hp.Choice("conv4_depth", [6, 23, 36], default=6)
        preactivation = version == "v2"

        inputs, x = self._model_input()
        x = layers.ZeroPadding2D(3, name="stem_pad")(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=version != "next", name="stem_conv")(x)
        if not preactivation:
            x = _relu(_bn(x, "stem_bn"), "stem_relu")
        x = layers.ZeroPadding2D(1, name="pool_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool")(x)

        depths = (3, conv3_depth, conv4_depth, 3)
        widths, strides = _STAGES[version]
        for i, (filters, depth, stride) in enumerate(zip(widths, depths, strides, strict=True)):
            name = f"conv{i + 2}"
            if version == "v2":
                x = _v2_stage(x, filters, depth, stride, name)
            else:
                block = _v1_block if version == "v1" else _next_block
                x = _stage(x, block, filters, depth, stride, name)
        if preactivation:
            x = _relu(_bn(x, "post_bn"), "post_relu")

        if hp.Choice("pooling", ["avg", "max"], default="avg") == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        else:
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="ResNet")
        outputs = layers.Dense(self.classes, activation="softmax", name="probs")(x)
        model = keras.Model(inputs, outputs, name="ResNet")
        optimizer = hp.Choice("optimizer", ["adam", "rmsprop", "sgd"], default="adam")
        learning_rate = hp.Choice("learning_rate", [0.1, 0.01, 0.001], default=0.01)
        model.compile(
            optimizer=_OPTIMIZERS[optimizer](learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model
