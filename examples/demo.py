"""The quick-start demo: a real tuning run of a black-box objective, stored in SQLite.

Run it with `make demo`. It tunes four hyperparameters of a noisy test function (a
log-scaled learning rate, a stepped integer, a choice and a conditional float) with random
search, prints the search space and the best trials in KerasTuner's format, and leaves the
project folder `demo_project/demo` with its store (`tunelab.sqlite`). Run it again and it
resumes: finished trials are kept and count toward max_trials.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import tunelab as kt


def objective(hp: kt.HyperParameters) -> dict[str, float]:
    """A stand-in for a training run: returns a loss and an accuracy-like metric."""
    lr = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    layers = hp.Int("layers", 1, 6, step=1)
    optimizer = hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        momentum = hp.Float("momentum", 0.0, 0.99)
    # The best region: lr near 3e-3, 3 layers, adam (or sgd with high momentum).
    loss = (math.log10(lr) + 2.5) ** 2 + 0.15 * (layers - 3) ** 2
    if optimizer == "sgd":
        loss += 0.5 * (1.0 - momentum)
    return {"val_loss": loss, "val_accuracy": 1.0 / (1.0 + loss)}


def main() -> None:
    tuner = kt.RandomSearch(
        objective,
        objective="val_loss",
        max_trials=25,
        seed=7,
        directory="demo_project",
        project_name="demo",
    )
    tuner.search_space_summary()
    tuner.search(verbose=0)
    tuner.results_summary(num_trials=3)
    best = tuner.get_best_hyperparameters()[0]
    store = Path(tuner.project_dir) / "tunelab.sqlite"
    with sqlite3.connect(store) as conn:
        count = conn.execute("SELECT COUNT(*) FROM trials WHERE status='COMPLETED'").fetchone()[0]
    print(f"\nBest hyperparameters: {best.values}")
    print(f"{count} completed trials are stored in {store}")


if __name__ == "__main__":
    main()
