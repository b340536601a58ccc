"""Shared data and models for the Keras backend tests: tiny, made with numpy, 1-3 epochs."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")


def make_data(n: int = 120, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes that depend on the first two features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = ((x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)).astype("int64")
    return x, y


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_data()


def build_classifier(hp):
    """A small MLP (under 100 parameters) with a tuned width and learning rate."""
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
