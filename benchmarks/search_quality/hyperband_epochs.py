"""Epochs Hyperband needs to reach random search's 30-trial best.

Random search trains 30 configurations for `max_epochs` each (30 x 27 = 810 epochs). For
each seed this script records random search's best value, then runs Hyperband (and
Hyperband with BOHB proposals) and counts the epochs it pays, trial by trial, until its best
value is as good. A promoted trial continues from its parent's checkpoint, so it pays only
``tuner/epochs - tuner/initial_epoch``. Target: at most a third of random search's epochs.

Tasks:

* ``curve``: a synthetic learning curve, ``hartmann6(x) + 3.33 + (0.5 + x0) / sqrt(epochs)``;
  configurations learn at different speeds, so early rankings are imperfect.
* ``gb_breast_cancer``: GradientBoosting on breast_cancer, 3-fold CV error, one epoch = 5
  boosting stages (no subsampling and all features: training longer from a checkpoint
  gives exactly the model trained from scratch, which is what is evaluated here).
* ``mlp_digits``: an MLP on 600 digits images, 3-fold CV error, one epoch = one pass of
  Adam over the training folds (``max_iter``, no early stop). Continuing from a checkpoint
  would also restore Adam's moments; evaluating from scratch instead is the same up to the
  shuffling order.

    python hyperband_epochs.py --seeds 0-9      # writes results/hyperband_epochs.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import harness  # noqa: E402
from problems import _cv_error, _memo, hartmann6  # noqa: E402

MAX_EPOCHS = 27
RANDOM_TRIALS = 30


def curve(v: dict[str, Any], epochs: int) -> float:
    return hartmann6(v) + 3.33 + (0.5 + v["x0"]) / math.sqrt(epochs)


def _gb(v: dict[str, Any], epochs: int) -> float:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(
        learning_rate=v["learning_rate"],
        n_estimators=5 * epochs,
        max_depth=v["max_depth"],
        min_samples_leaf=v["min_samples_leaf"],
        random_state=0,
    )
    return _cv_error(model, "breast_cancer")


_gb_cached = _memo(lambda v: _gb({k: x for k, x in v.items() if k != "epochs"}, v["epochs"]))


def gb_breast_cancer(v: dict[str, Any], epochs: int) -> float:
    return _gb_cached({**v, "epochs": epochs})


def _mlp(v: dict[str, Any], epochs: int) -> float:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(v["units"],),
        learning_rate_init=v["learning_rate"],
        alpha=v["alpha"],
        batch_size=v["batch_size"],
        max_iter=epochs,
        tol=0.0,  # train exactly `epochs` passes: the budget is what Hyperband allots
        n_iter_no_change=10**6,
        random_state=0,
    )
    return _cv_error(model, "digits")


_mlp_cached = _memo(lambda v: _mlp({k: x for k, x in v.items() if k != "epochs"}, v["epochs"]))


def mlp_digits(v: dict[str, Any], epochs: int) -> float:
    return _mlp_cached({**v, "epochs": epochs})


def _space(task: str) -> Any:
    import tunelab as kt

    hp = kt.HyperParameters()
    if task == "curve":
        for i in range(6):
            hp.Float(f"x{i}", 0.0, 1.0)
    elif task == "mlp_digits":
        hp.Float("learning_rate", 1e-4, 0.3, sampling="log")
        hp.Float("alpha", 1e-6, 1.0, sampling="log")
        hp.Int("units", 4, 128, sampling="log")
        hp.Int("batch_size", 16, 128, sampling="log")
    else:
        hp.Float("learning_rate", 1e-3, 1.0, sampling="log")
        hp.Int("max_depth", 1, 6)
        hp.Int("min_samples_leaf", 1, 30)
    return hp


TASKS = {"curve": curve, "gb_breast_cancer": gb_breast_cancer, "mlp_digits": mlp_digits}


def _values(trial: Any) -> dict[str, Any]:
    return {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}


def run_random(task: str, seed: int) -> float:
    import tunelab as kt

    with tempfile.TemporaryDirectory() as directory:
        oracle = kt.oracles.RandomSearchOracle(
            objective=kt.Objective("loss", "min"), max_trials=RANDOM_TRIALS, seed=seed,
            hyperparameters=_space(task), directory=directory, project_name="r",
        )  # fmt: skip
        best = math.inf
        while (trial := oracle.ask()) is not None:
            value = TASKS[task](_values(trial), MAX_EPOCHS)
            oracle.tell(trial, value)
            best = min(best, value)
        return best


def run_hyperband(task: str, seed: int, sampler: str, target: float) -> dict[str, Any]:
    import tunelab as kt

    with tempfile.TemporaryDirectory() as directory:
        oracle = kt.oracles.HyperbandOracle(
            objective=kt.Objective("loss", "min"), max_epochs=MAX_EPOCHS, factor=3,
            hyperband_iterations=3, seed=seed, hyperparameters=_space(task),
            directory=directory, project_name="hb", sampler=sampler,
        )  # fmt: skip
        paid, best, reached = 0, math.inf, None
        while (trial := oracle.ask()) is not None:
            hp = trial.hyperparameters
            epochs = hp.get("tuner/epochs")
            value = TASKS[task](_values(trial), epochs)
            paid += epochs - hp.get("tuner/initial_epoch")
            oracle.tell(trial, value)
            best = min(best, value)
            if reached is None and best <= target:
                reached = paid
        return {"epochs_to_reach": reached, "total_epochs": paid, "best": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="0-9")
    args = parser.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    budget = RANDOM_TRIALS * MAX_EPOCHS
    out: dict[str, Any] = {"max_epochs": MAX_EPOCHS, "random_trials": RANDOM_TRIALS,
                           "random_epochs": budget, "tasks": {}}  # fmt: skip
    rows = []
    for task in args.tasks.split(","):
        runs = []
        for seed in seeds:
            # Another seed for random search: the same one would share its first draws.
            target = run_random(task, seed + 1000)
            run = {"seed": seed, "random_best": target}
            for sampler in ("random", "bohb"):
                run[sampler] = run_hyperband(task, seed, sampler, target)
            runs.append(run)
            print(json.dumps({"task": task, **run}), flush=True)
        summary = {}
        for sampler in ("random", "bohb"):
            # A seed that never reached the target counts as all of Hyperband's epochs.
            spent = [r[sampler]["epochs_to_reach"] or math.inf for r in runs]
            finite = [min(s, budget * 10) for s in spent]
            median = statistics.median(finite)
            summary[sampler] = {
                "median_epochs_to_reach": median if median < budget * 10 else None,
                "median_fraction_of_random": median / budget,
                "seeds_within_third": sum(s <= budget / 3 for s in spent),
                "seeds_reached": sum(s < math.inf for s in spent),
                "seeds": len(runs),
            }
            rows.append([task, "hyperband" if sampler == "random" else "hyperband+bohb",
                         f"{median:.0f}", f"{median / budget:.2f}",
                         f"{summary[sampler]['seeds_within_third']}/{len(runs)}"])  # fmt: skip
        out["tasks"][task] = {"summary": summary, "runs": runs}
    print(harness.table(["task", "method", "median epochs", "/ random's", "seeds <= 1/3"], rows))
    # Tasks run in separate pieces add up: keep the ones this run did not redo.
    previous = harness.RESULTS_DIR / "hyperband_epochs.json"
    if previous.exists():
        kept = json.loads(previous.read_text(encoding="utf-8")).get("tasks", {})
        out["tasks"] = {**{k: v for k, v in kept.items() if k not in out["tasks"]}, **out["tasks"]}
    harness.write_report("hyperband_epochs", out)


if __name__ == "__main__":
    main()
