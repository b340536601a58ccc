"""A tiny Keras hypermodel for the executors' tests, importable by name in worker processes.

Keras is imported when a worker builds the model, not when this module is imported, so the
driver of a search need not load TensorFlow before its workers start.
"""

from __future__ import annotations

import os

import numpy as np

import tunelab as kt


def make_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes that depend on the first two of four features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = ((x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)).astype("int64")
    return x, y


class WhereAmI(kt.HyperModel):
    """A small MLP whose training logs the process id and the GPU the process was given."""

    def build(self, hp):
        import keras

        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Int("units", 2, 8, step=2), activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def fit(self, hp, model, *args, **kwargs):
        import keras

        class LogPlace(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs["pid"] = float(os.getpid())
                logs["gpu"] = float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))

        # First, so the tuner's own reporting callback sees the extra logs.
        kwargs["callbacks"] = [LogPlace(), *kwargs.get("callbacks", [])]
        return model.fit(*args, **kwargs)
