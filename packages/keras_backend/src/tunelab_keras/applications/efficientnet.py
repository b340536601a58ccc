"""`HyperEfficientNet`: Keras's EfficientNet B0-B7, with the version and the head tuned."""

from __future__ import annotations

from typing import Any

import keras

from tunelab.hyperparameters import HyperParameters
from tunelab_keras.applications.augment import HyperImageAugment
from tunelab_keras.applications.base import ImageHyperModel

__all__ = ["HyperEfficientNet"]

_VERSIONS = ("B0", "B1", "B2", "B3", "B4", "B5", "B6", "B7")


class HyperEfficientNet(ImageHyperModel):
    """An EfficientNet classifier (``keras.applications``, random weights) with the
    version, the top dropout and the learning rate tuned, and optional augmentation.

    Hyperparameters: ``version`` (B0-B7, default B0), ``top_dropout_rate``, and with the
    head ``optimizer`` and ``learning_rate``; with `augmentation_model` a
    `HyperImageAugment`, its hyperparameters too.

    Parameters
    ----------
    include_top, input_shape, input_tensor, classes
        See `ImageHyperModel`.
    augmentation_model : HyperImageAugment or keras.Model, optional
        Layers applied to the input first (while training only).
    weights : None
        Only None: pretrained (ImageNet) weights are never downloaded.

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
        include_top: bool = True,
        input_shape: Any = None,
        input_tensor: Any = None,
        classes: int | None = None,
        augmentation_model: Any = None,
        weights: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(include_top, input_shape, input_tensor, classes, weights, **kwargs)
        if augmentation_model is not None and not isinstance(
            augmentation_model, (HyperImageAugment, keras.Model)
        ):
            raise TypeError(
                f"augmentation_model={augmentation_model!r}; expected a HyperImageAugment or a "
                "keras.Model"
            )
        self.augmentation_model = augmentation_model

    def build(self, hp: HyperParameters) -> Any:
        inputs = self._inputs()
        x = inputs
        augment = self.augmentation_model
        if isinstance(augment, HyperImageAugment):
            x = augment.build(hp)(x)
        elif augment is not None:
            x = augment(x)
        version = hp.Choice("version", list(_VERSIONS), default="B0")
        application = getattr(keras.applications, f"EfficientNet{version}")
        backbone = application(include_top=False, weights=None, input_tensor=x, pooling="avg")
        features = backbone.output
        dropout = hp.Float("top_dropout_rate", 0.1, 0.5, step=0.1, default=0.2)
        features = keras.layers.Dropout(dropout, name="top_dropout")(features)
        return self._finish(hp, inputs, features, f"hyper_efficientnet_{version.lower()}")
