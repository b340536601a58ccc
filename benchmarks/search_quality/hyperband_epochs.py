"""Epochs Hyperband needs to reach random search's 30-trial best.

Random search trains 30 configurations for `max_epochs` each (30 x 27 = 810 epochs). This
script runs random search with several seeds and takes the *median* of their best values as
the target: the result random search typically gets, rather than the luck of one run (the
best of 30 varies a lot from run to run, and one lucky run is a bar that random search
itself misses half the time). Then it runs Hyperband (3 iterations, 1,125 epochs) and
Hyperband with BOHB proposals and counts the epochs each pays, trial by trial, until its best
value is as good. A promoted trial continues from its parent's checkpoint, so it pays only
``tuner/epochs - tuner/initial_epoch``. Target: at most a third of random search's epochs.

The real tasks score the validation *log-loss*, not the error rate: the error of a few
hundred validation images takes few distinct values, so whether a method "reaches" random's
best was decided by ties (several of the best configurations share one error rate), while a
log-loss orders every configuration. The models are checkpointed between calls
(`learning_curves`): the score after ``e`` epochs is that of a model trained ``e`` epochs,
whether in one go or continued, as in a real Hyperband search.

Tasks:

* ``curve``: a synthetic learning curve, ``hartmann6(x) + 3.33 + (0.5 + x0) / sqrt(epochs)``;
  configurations learn at different speeds, so early rankings are imperfect.
* ``mlp_digits``: an MLP (one hidden layer, Adam) on the 1,797 digits images, validation
  log-loss on a third of them; one epoch = one pass of Adam over the training images.
* ``gb_breast_cancer``: GradientBoosting on breast_cancer, 3-fold CV log-loss; one epoch = 5
  boosting stages. Slow learning rates look poor after a few stages and win at the end,
  so its early rankings are the least faithful of the three.

    python hyperband_epochs.py --tasks mlp_digits --seeds 0-9   # results/hyperband_epochs.json

Seeds can run in pieces (``--seeds 0-4`` then ``--seeds 5-9``): a task's runs of other
seeds, and its random-search runs, are kept from the previous JSON.
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
from learning_curves import GBBreastCancer, MLPDigits  # noqa: E402
from problems import hartmann6  # noqa: E402

MAX_EPOCHS = 27
RANDOM_TRIALS = 30
RANDOM_RUNS = 10  # random-search runs whose median best is the target
SAMPLERS = ("random", "bohb")


def curve(v: dict[str, Any], epochs: int) -> float:
    return hartmann6(v) + 3.33 + (0.5 + v["x0"]) / math.sqrt(epochs)


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


TASKS = {"curve": lambda: curve, "mlp_digits": MLPDigits, "gb_breast_cancer": GBBreastCancer}


def _values(trial: Any) -> dict[str, Any]:
    return {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}


def run_random(fn: Any, task: str, seed: int) -> list[float]:
    """The best value after each of random search's trials."""
    import tunelab as kt

    with tempfile.TemporaryDirectory() as directory:
        oracle = kt.oracles.RandomSearchOracle(
            objective=kt.Objective("loss", "min"), max_trials=RANDOM_TRIALS, seed=seed,
            hyperparameters=_space(task), directory=directory, project_name="r",
        )  # fmt: skip
        bests = [math.inf]
        while (trial := oracle.ask()) is not None:
            value = fn(_values(trial), MAX_EPOCHS)
            oracle.tell(trial, value)
            bests.append(min(bests[-1], value))
        return bests[1:]


def run_hyperband(fn: Any, task: str, seed: int, sampler: str, target: float) -> dict[str, Any]:
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
            value = fn(_values(trial), epochs)
            paid += epochs - hp.get("tuner/initial_epoch")
            oracle.tell(trial, value)
            best = min(best, value)
            if reached is None and best <= target:
                reached = paid
        return {"epochs_to_reach": reached, "total_epochs": paid, "best": best}


def _summary(spent: list[float | None], budget: int) -> dict[str, Any]:
    # A run that never reached the target counts as infinitely many epochs.
    finite = [math.inf if s is None else s for s in spent]
    median = statistics.median(finite)
    return {
        "median_epochs_to_reach": None if median == math.inf else median,
        "median_fraction_of_random": None if median == math.inf else median / budget,
        "seeds_within_third": sum(s <= budget / 3 for s in finite),
        "seeds_reached": sum(s < math.inf for s in finite),
        "seeds": len(finite),
    }


def run_task(task: str, seeds: list[int], kept: dict[str, Any]) -> dict[str, Any]:
    fn = TASKS[task]()
    budget = RANDOM_TRIALS * MAX_EPOCHS
    randoms = {r["seed"]: r for r in kept.get("random_runs", [])}
    for seed in range(1000, 1000 + RANDOM_RUNS):  # other seeds than Hyperband's
        if seed not in randoms:
            bests = run_random(fn, task, seed)
            randoms[seed] = {"seed": seed, "best": bests[-1], "bests": bests}
    random_runs = [randoms[s] for s in sorted(randoms)]
    target = statistics.median(r["best"] for r in random_runs)
    for r in random_runs:  # random search against the same target, for reference
        hit = next((i for i, b in enumerate(r["bests"]) if b <= target), None)
        r["epochs_to_reach"] = None if hit is None else (hit + 1) * MAX_EPOCHS
    runs = {r["seed"]: r for r in kept.get("runs", []) if kept.get("target") == target}
    for seed in seeds:
        run = {"seed": seed, **{s: run_hyperband(fn, task, seed, s, target) for s in SAMPLERS}}
        runs[seed] = run
        print(json.dumps({"task": task, **run}), flush=True)
    ordered = [runs[s] for s in sorted(runs)]
    summary = {"random_search": _summary([r["epochs_to_reach"] for r in random_runs], budget)}
    for sampler in SAMPLERS:
        summary[sampler] = _summary([r[sampler]["epochs_to_reach"] for r in ordered], budget)
    return {"target": target, "summary": summary, "runs": ordered, "random_runs": random_runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="0-9")
    args = parser.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    budget = RANDOM_TRIALS * MAX_EPOCHS
    previous = harness.RESULTS_DIR / "hyperband_epochs.json"
    old = json.loads(previous.read_text(encoding="utf-8")) if previous.exists() else {}
    tasks = old.get("tasks", {}) if old.get("metric") == "log_loss" else {}
    for task in args.tasks.split(","):
        tasks[task] = run_task(task, seeds, tasks.get(task, {}))
    rows = []
    for task, result in tasks.items():
        for method, s in result["summary"].items():
            fraction = s["median_fraction_of_random"]
            rows.append([
                task, {"random": "hyperband", "bohb": "hyperband+bohb"}.get(method, method),
                f"{result['target']:.4f}", "-" if fraction is None else f"{fraction:.2f}",
                f"{s['seeds_within_third']}/{s['seeds']}", f"{s['seeds_reached']}/{s['seeds']}",
            ])  # fmt: skip
    headers = ["task", "method", "target", "median epochs / 810", "<= 1/3", "reached"]
    text = harness.table(headers, rows)
    print(text)
    (harness.RESULTS_DIR / "hyperband_epochs.txt").write_text(text + "\n", encoding="utf-8")
    harness.write_report("hyperband_epochs", {
        "metric": "log_loss", "max_epochs": MAX_EPOCHS, "random_trials": RANDOM_TRIALS,
        "random_epochs": budget, "random_runs": RANDOM_RUNS, "tasks": tasks,
    })  # fmt: skip


if __name__ == "__main__":
    main()
