"""Tune a small Keras MLP with the KerasTuner API: width, depth, dropout and learning rate.

The data are made here (a 3-class problem on 8 features), so the example runs offline in
under a minute on a CPU. Run: ``uv run python examples/keras_mlp.py [--directory DIR]``.
It runs a Hyperband search (trials stopped early, later rounds continue from saved models),
prints the best trials, and evaluates the best model on held-out data.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tunelab as kt  # noqa: E402


def make_data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes split by two noisy linear boundaries."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    score = x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2] + 0.2 * rng.normal(size=n)
    y = np.digitize(score, [-0.5, 0.5]).astype("int64")
    return x, y


def build_model(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((8,))])
    for index in range(hp.Int("layers", 1, 3)):
        model.add(keras.layers.Dense(hp.Int(f"units_{index}", 8, 64, step=8), activation="relu"))
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(3, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description="Tune a small Keras MLP.")
    parser.add_argument("--directory", default="keras_projects")
    options = parser.parse_args()
    x, y = make_data()
    x_train, y_train, x_test, y_test = x[:500], y[:500], x[500:], y[500:]
    tuner = kt.Hyperband(
        build_model,
        objective="val_accuracy",
        max_epochs=9,
        factor=3,
        seed=0,
        directory=options.directory,
        project_name="keras_mlp",
        overwrite=True,
    )
    tuner.search_space_summary()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    tuner.search(x_train, y_train, validation_split=0.2, batch_size=32, callbacks=[stop], verbose=0)
    tuner.results_summary(3)
    best = tuner.get_best_models(1)[0]
    loss, accuracy = best.evaluate(x_test, y_test, verbose=0)
    print(f"Best model on held-out data: loss {loss:.3f}, accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
