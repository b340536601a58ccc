"""Tune a NumPy-only neural network, with ask/tell (and early stopping) and as a function.

The model is a one-hidden-layer network written in NumPy (tanh units, a sigmoid output,
cross-entropy loss with an L2 penalty, full-batch gradient descent with momentum), trained
on two noisy concentric rings with extra noise features, all generated here. The
hyperparameters are the number of hidden units, the learning rate (log scale), the L2
strength (log scale) and the number of epochs.

1. ask/tell: the training loop reports the validation loss every 25 epochs with
   `trial.report(...)` and stops when `trial.should_stop()` says so. The oracle is random
   search plus a median stopping rule (`should_stop` is the one method it adds): from epoch
   150 on, a trial whose validation loss is worse than the median of the finished trials at
   the same epoch is stopped. The Hyperband and ASHA oracles stop trials through the same
   two calls.
2. a function objective: `kt.RandomSearch(fit_network, objective="val_loss", ...)`; the
   data reaches the function through `tuner.search(data)`. Every trial trains to the end.

Both use the same seed, so they try the same configurations; the output shows what early
stopping saved. Run it with::

    python examples/tune_numpy_model.py [--directory example_projects]

Projects are written to ``<directory>/tune_numpy_model/`` and started clean each run.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import tunelab as kt

SEED = 0
MAX_TRIALS = 25
REPORT_EVERY = 25
MOMENTUM = 0.9


class Dataset(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def make_rings(n_samples: int = 1000, noise_features: int = 6, seed: int = SEED) -> Dataset:
    """Two noisy concentric rings (class 0 inside, class 1 outside) plus pure-noise features,
    split 60/40 into training and validation sets."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_samples)
    radius = np.where(labels == 1, 2.0, 1.0) + rng.normal(0.0, 0.3, n_samples)
    angle = rng.uniform(0.0, 2.0 * math.pi, n_samples)
    rings = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x = np.hstack([rings, rng.normal(0.0, 1.0, (n_samples, noise_features))])
    split = int(0.6 * n_samples)
    return Dataset(x[:split], labels[:split].astype(float), x[split:], labels[split:].astype(float))


def _forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden = np.tanh(x @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"] + params["b2"]
    return hidden, 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))


def _metrics(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    _, p = _forward(params, x)
    p = np.clip(p, 1e-7, 1.0 - 1e-7)
    loss = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return {"val_loss": float(loss), "val_accuracy": float(np.mean((p > 0.5) == y))}


def fit_network(
    hp: kt.HyperParameters,
    data: Dataset,
    on_report: Callable[[int, dict[str, float]], bool] | None = None,
) -> dict[str, float]:
    """Train the network with the hyperparameters in `hp`; return validation metrics.

    Parameters
    ----------
    hp : kt.HyperParameters
        Registers and returns ``units``, ``learning_rate``, ``l2`` and ``epochs``.
    data : Dataset
        Training and validation arrays.
    on_report : callable, optional
        Called every `REPORT_EVERY` epochs with the epoch and the validation metrics;
        training stops when it returns True.

    Returns
    -------
    dict
        ``val_loss``, ``val_accuracy`` and ``epochs_run`` after the last epoch run.

    Examples
    --------
    >>> metrics = fit_network(kt.HyperParameters(), make_rings())
    >>> 0.0 <= metrics["val_accuracy"] <= 1.0
    True
    """
    units = hp.Int("units", 2, 64, sampling="log")
    learning_rate = hp.Float("learning_rate", 1e-3, 3.0, sampling="log")
    l2 = hp.Float("l2", 1e-6, 1e-1, sampling="log")
    epochs = hp.Int("epochs", 100, 800, step=100)

    # The same initial weights for every trial, so differences come from the hyperparameters.
    rng = np.random.default_rng(SEED)
    features = data.x_train.shape[1]
    params = {
        "w1": rng.normal(0.0, 1.0 / math.sqrt(features), (features, units)),
        "b1": np.zeros(units),
        "w2": rng.normal(0.0, 1.0 / math.sqrt(units), units),
        "b2": np.zeros(1),
    }
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    x, y, n = data.x_train, data.y_train, len(data.y_train)
    epoch = 0
    for epoch in range(1, epochs + 1):
        hidden, p = _forward(params, x)
        delta = (p - y) / n  # gradient of the mean cross-entropy w.r.t. the logits
        delta_hidden = np.outer(delta, params["w2"]) * (1.0 - hidden**2)
        grads = {
            "w1": x.T @ delta_hidden + l2 * params["w1"],
            "b1": delta_hidden.sum(axis=0),
            "w2": hidden.T @ delta + l2 * params["w2"],
            "b2": np.array([delta.sum()]),
        }
        for name in params:
            velocity[name] = MOMENTUM * velocity[name] - learning_rate * grads[name]
            params[name] += velocity[name]
        if on_report is None or epoch % REPORT_EVERY or epoch == epochs:
            continue  # the last epoch's values are the result, not a report
        if on_report(epoch, _metrics(params, data.x_val, data.y_val)):
            break
    return {**_metrics(params, data.x_val, data.y_val), "epochs_run": float(epoch)}


class MedianStoppingOracle(kt.oracles.RandomSearchOracle):
    """Random search that stops a trial whose objective, at a reported step, is worse than
    the median of the completed trials at that step.

    Parameters
    ----------
    min_completed : int
        How many completed trials must have reported a step before trials are stopped there.
    grace_steps : int
        No trial is stopped before this step: early values say little about the end.
    *args, **kwargs
        Those of `kt.oracles.RandomSearchOracle`.
    """

    def __init__(
        self, *args: Any, min_completed: int = 5, grace_steps: int = 150, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.min_completed = min_completed
        self.grace_steps = grace_steps

    def should_stop(self, trial: kt.Trial, step: int) -> bool:
        name = self.objective.name
        current = trial.metrics.get_last_value(name)
        if current is None or step < self.grace_steps:
            return False
        peers = []
        for other in self.trials.values():
            if other.status != kt.TrialStatus.COMPLETED or not other.metrics.exists(name):
                continue
            at_step = [o.mean() for o in other.metrics.get_history(name) if o.step == step]
            peers.extend(at_step)
        if len(peers) < self.min_completed:
            return False
        return self.objective.better_than(float(np.median(peers)), current)


def search_with_ask_tell(directory: Path, data: Dataset) -> tuple[kt.Trial, int, int]:
    """Ask, train while reporting, tell; returns the best trial, epochs run, trials stopped."""
    oracle = MedianStoppingOracle(
        objective="val_loss",
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="ask_tell",
        overwrite=True,
    )
    epochs_run = 0
    while (trial := oracle.ask()) is not None:

        def on_report(epoch: int, metrics: dict[str, float], trial: kt.Trial = trial) -> bool:
            trial.report(metrics, step=epoch)
            return trial.should_stop()

        result = fit_network(trial.hyperparameters, data, on_report)
        epochs_run += int(result["epochs_run"])
        # A stopped trial is told too: it ends STOPPED, with the values it reached.
        oracle.tell(trial, result)
    trials = oracle.trials.values()
    stopped = sum(t.status == kt.TrialStatus.STOPPED for t in trials)
    print(
        f"ask/tell: {len(trials)} trials, {stopped} stopped early by the median rule, "
        f"{epochs_run} epochs trained in all"
    )
    return oracle.get_best_trials(1)[0], epochs_run, stopped


def search_with_function(directory: Path, data: Dataset) -> tuple[kt.Trial, int]:
    """The same search as a function objective; every trial trains to the end."""
    tuner = kt.RandomSearch(
        fit_network,
        objective="val_loss",
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="function",
        overwrite=True,
    )
    tuner.search(data, verbose=0)  # `data` is passed on to fit_network
    tuner.results_summary(num_trials=3)
    epochs_run = sum(
        int(t.metrics.get_last_value("epochs_run") or 0) for t in tuner.oracle.trials.values()
    )
    print(f"function: {len(tuner.oracle.trials)} trials, {epochs_run} epochs trained in all")
    return tuner.get_best_trials(1)[0], epochs_run


def report_best(style: str, trial: kt.Trial) -> None:
    accuracy = trial.metrics.get_last_value("val_accuracy")
    print(
        f"{style}: best val_loss {trial.score:.4f}, val_accuracy {accuracy:.3f} "
        f"(trial {trial.trial_id}): {trial.hyperparameters.active_values()}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--directory",
        default="example_projects",
        help="where the projects are written (default: example_projects)",
    )
    args = parser.parse_args(argv)
    directory = Path(args.directory) / "tune_numpy_model"
    data = make_rings()

    best_ask_tell, epochs_ask_tell, _ = search_with_ask_tell(directory, data)
    print()
    best_function, epochs_function = search_with_function(directory, data)
    print()
    report_best("ask/tell", best_ask_tell)
    report_best("function", best_function)
    saved = 1.0 - epochs_ask_tell / epochs_function
    print(
        f"Early stopping trained {epochs_ask_tell} epochs instead of {epochs_function} "
        f"({saved:.0%} fewer)."
    )


if __name__ == "__main__":
    main()
