"""Tune a small PyTorch training loop, with ask/tell and with a function objective.

A two-layer MLP learns a smooth nonlinear regression target (generated here, CPU only).
The hyperparameters are the hidden width, the optimizer (Adam, or SGD with a conditional
momentum), the learning rate and the weight decay (both on a log scale) and the batch size.

1. ask/tell: the loop reports the validation loss after every epoch with `trial.report`
   and checks `trial.should_stop()` (random search never stops a trial; the Hyperband and
   ASHA oracles stop poor ones through the same two calls). The trial's score is its best
   epoch.
2. a function objective: `kt.RandomSearch(train_mlp, objective="val_loss", ...)`, with the
   tensors passed through `tuner.search(data)`.

PyTorch is optional: without it the script prints why it is skipped and exits with status 0.
Run it with::

    python examples/tune_torch_loop.py [--directory example_projects]

Projects are written to ``<directory>/tune_torch_loop/`` and started clean each run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import torch
except ImportError:
    print("Skipping tune_torch_loop.py: PyTorch is not installed (pip install torch).")
    sys.exit(0)

import tunelab as kt

SEED = 3
MAX_TRIALS = 15
EPOCHS = 20
FEATURES = 8


def make_data(n_samples: int = 1024, seed: int = SEED) -> dict[str, torch.Tensor]:
    """A regression target that needs the hidden layer: y = sin(2 x0) * x1 + x2^2 / 2 +
    noise, with five more features that carry nothing; split 50/50 into train and
    validation."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n_samples, FEATURES, generator=generator)
    y = torch.sin(2.0 * x[:, 0]) * x[:, 1] + 0.5 * x[:, 2] ** 2
    y = y + 0.1 * torch.randn(n_samples, generator=generator)
    half = n_samples // 2
    return {
        "x_train": x[:half],
        "y_train": y[:half, None],
        "x_val": x[half:],
        "y_val": y[half:, None],
    }


def train_mlp(
    hp: kt.HyperParameters,
    data: dict[str, torch.Tensor],
    on_epoch: Callable[[int, float], bool] | None = None,
) -> dict[str, float]:
    """Train the MLP with the hyperparameters in `hp`; return the final validation loss.

    Parameters
    ----------
    hp : kt.HyperParameters
        Registers and returns ``units``, ``optimizer``, ``momentum`` (SGD only),
        ``learning_rate``, ``weight_decay`` and ``batch_size``.
    data : dict of tensors
        ``x_train``, ``y_train``, ``x_val``, ``y_val``.
    on_epoch : callable, optional
        Called after each epoch with the epoch and the validation loss; training stops when
        it returns True.

    Returns
    -------
    dict
        ``val_loss`` (mean squared error on the validation set) and ``epochs_run``.

    Examples
    --------
    >>> metrics = train_mlp(kt.HyperParameters(), make_data())
    >>> metrics["val_loss"] > 0.0
    True
    """
    units = hp.Int("units", 8, 128, sampling="log")
    optimizer_name = hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        momentum = hp.Float("momentum", 0.0, 0.95)
    learning_rate = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    weight_decay = hp.Float("weight_decay", 1e-6, 1e-2, sampling="log")
    batch_size = hp.Choice("batch_size", [32, 64, 128])

    # The same initial weights and batch order for each trial of the same width.
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, units),
        torch.nn.ReLU(),
        torch.nn.Linear(units, units),
        torch.nn.ReLU(),
        torch.nn.Linear(units, 1),
    )
    optimizer: torch.optim.Optimizer
    if optimizer_name == "adam":
        optimizer = torch.optim.Adam(
            model.parameters(), lr=learning_rate, weight_decay=weight_decay
        )
    else:
        optimizer = torch.optim.SGD(
            model.parameters(), lr=learning_rate, momentum=momentum, weight_decay=weight_decay
        )
    loss_fn = torch.nn.MSELoss()
    x, y = data["x_train"], data["y_train"]
    epoch, val_loss = 0, float("nan")
    for epoch in range(1, EPOCHS + 1):
        model.train()
        for batch in torch.randperm(len(x)).split(batch_size):
            optimizer.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(data["x_val"]), data["y_val"]).item()
        if on_epoch is not None and on_epoch(epoch, val_loss):
            break
    return {"val_loss": val_loss, "epochs_run": float(epoch)}


def search_with_ask_tell(directory: Path, data: dict[str, torch.Tensor]) -> kt.Trial:
    """Ask for a trial, train it while reporting each epoch, tell the result."""
    oracle = kt.oracles.RandomSearchOracle(
        objective="val_loss",
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="ask_tell",
        overwrite=True,
    )
    while (trial := oracle.ask()) is not None:

        def on_epoch(epoch: int, val_loss: float, trial: kt.Trial = trial) -> bool:
            trial.report(val_loss, step=epoch)
            return trial.should_stop()

        try:
            train_mlp(trial.hyperparameters, data, on_epoch)
        except Exception as error:  # the trial is FAILED with its traceback; go on
            oracle.tell(trial, error=error)
            continue
        # Nothing more to tell: the score is the best val_loss reported over the epochs.
        oracle.tell(trial)
    best = oracle.get_best_trials(1)[0]
    print(
        f"ask/tell: {len(oracle.trials)} trials stored in {oracle.project_dir / 'tunelab.sqlite'}"
    )
    print(
        f"ask/tell: best val_loss {best.score:.4f} at epoch {best.best_step} "
        f"(trial {best.trial_id}): {_rounded(best.hyperparameters.active_values())}"
    )
    return best


def search_with_function(directory: Path, data: dict[str, torch.Tensor]) -> kt.Trial:
    """The same search as a function objective: the tuner runs the loop."""
    tuner = kt.RandomSearch(
        train_mlp,
        objective="val_loss",
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="function",
        overwrite=True,
    )
    tuner.search(data, verbose=0)  # `data` is passed on to train_mlp
    tuner.results_summary(num_trials=3)
    best = tuner.get_best_trials(1)[0]
    print(
        f"\nfunction: best val_loss {best.score:.4f} after {EPOCHS} epochs "
        f"(trial {best.trial_id}): {_rounded(best.hyperparameters.active_values())}"
    )
    return best


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in values.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--directory",
        default="example_projects",
        help="where the projects are written (default: example_projects)",
    )
    args = parser.parse_args(argv)
    directory = Path(args.directory) / "tune_torch_loop"
    torch.set_num_threads(1)  # tiny tensors: threads cost more than they give
    data = make_data()
    # The variance of the validation targets: a model that predicts the mean scores this.
    baseline = data["y_val"].var(unbiased=False).item()
    print(f"Predicting the mean gives val_loss {baseline:.4f}\n")

    search_with_ask_tell(directory, data)
    print()
    search_with_function(directory, data)


if __name__ == "__main__":
    main()
