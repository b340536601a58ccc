"""Wall clock of cross-validated scikit-learn tuning: tunelab against its peers.

Two comparisons, each on the same work for both sides:

* **Tuner**: the same 30 configurations of a pipeline (a scaler, then a RandomForest or a
  GradientBoosting classifier) on ``load_digits`` with 5-fold CV (KerasTuner's default
  folds, ``KFold(5, shuffle=True, random_state=1)``). tunelab's ``kt.tuners.Sklearn`` with
  ``n_jobs=2`` (folds in parallel, best configuration refit on all the data and saved with
  skops) against KerasTuner's ``SklearnTuner`` (folds one by one, the last fold's model
  pickled per trial). Both walk the 30 configurations with a grid oracle over their index,
  so they fit exactly the same pipelines. Target: tunelab at least 1.7x faster.
* **SearchCV**: ``TuneSearchCV(oracle="random")`` against ``RandomizedSearchCV`` with the
  same ``n_iter=30``, ``n_jobs=2`` and ``cv=5``, on a space of 30 listed values (both then
  try each value once, so they fit the same candidates). Target: within 10%.
* **RandomForest** (issue 17, the one runner): the same 30 RandomForest configurations
  (``rf_configurations``) on ``load_digits`` with the same 5 folds, ``kt.tuners.Sklearn``
  with ``n_jobs=2`` (a grid oracle over the configurations' index) against
  ``RandomizedSearchCV(n_jobs=2)`` over the 30 configurations as single-value grids (it
  then samples each once, without replacement). Both refit the best configuration on all
  the data; tunelab also saves it with skops. Target: within 5%.

Each measurement runs in a fresh process (imports are not timed; the search, refit and
model saving are). The models are kept small so that the whole run stays under ~10 minutes
on 2 busy cores; the ratios, not the absolute times, are the point.

Run it in the environment a user of these two tuners has: the workspace's default
dependencies plus KerasTuner, with bytecode caches on. Two things in a development box skew
the ratio against the parallel side only, because joblib's fresh worker processes import
scikit-learn again while the sequential peer imported it before the clock started:
``PYTHONDONTWRITEBYTECODE=1`` (every worker compiles scikit-learn from source, ~3 s), and
torch from the ``bench`` group (scikit-learn's array-API layer then imports it, ~2.5 s per
process and again in skops). The committed results were made with::

    uv sync --all-packages --frozen              # default groups: no torch
    uv pip install --target /tmp/ktlib --no-deps keras-tuner==1.4.8 kt-legacy
    env -u PYTHONDONTWRITEBYTECODE PYTHONPATH=/tmp/ktlib \
        .venv/bin/python benchmarks/sklearn_speed.py --repeats 3 [--only tuner|searchcv|rf]

Results: a table on stdout and ``benchmarks/results/sklearn_speed.json`` (with ``--only X``,
``sklearn_speed_X.json``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import fmt, median_of, ratio, run_worker, table, write_report  # noqa: E402

N_CONFIGS = 30
TUNER_TARGET = 1.7  # tunelab at least this many times faster than KerasTuner
SEARCHCV_TOLERANCE = 0.10  # TuneSearchCV within 10% of RandomizedSearchCV
RF_TOLERANCE = 0.05  # kt.tuners.Sklearn within 5% of RandomizedSearchCV, same fits
MEASURES = {
    "tuner": ("tunelab-tuner", "kerastuner-tuner"),
    "searchcv": ("tunelab-searchcv", "sklearn-searchcv"),
    "rf": ("tunelab-rf", "sklearn-rf"),
}
LABELS = {
    "tunelab-tuner": "tunelab kt.tuners.Sklearn (n_jobs=2)",
    "kerastuner-tuner": "KerasTuner SklearnTuner",
    "tunelab-searchcv": "tunelab TuneSearchCV (random, n_jobs=2)",
    "sklearn-searchcv": "scikit-learn RandomizedSearchCV (n_jobs=2)",
    "tunelab-rf": "tunelab kt.tuners.Sklearn, 30 RandomForests (n_jobs=2)",
    "sklearn-rf": "scikit-learn RandomizedSearchCV, same 30 RandomForests (n_jobs=2)",
}
# The SearchCV comparison's 30 values (all tried by both searches).
N_ESTIMATORS = list(range(10, 10 + 3 * N_CONFIGS, 3))


def configurations() -> list[dict[str, Any]]:
    """The 30 pipelines of the tuner comparison, drawn once from a fixed seed."""
    import numpy as np

    rng = np.random.default_rng(2024)
    out = []
    for i in range(N_CONFIGS):
        scaler = ("standard", "minmax")[i % 2]
        if i % 2 == 0:
            out.append(
                {
                    "scaler": scaler,
                    "model": "rf",
                    "n_estimators": int(rng.integers(20, 101)),
                    "max_depth": int(rng.integers(4, 17)),
                }
            )
        else:
            out.append(
                {
                    "scaler": scaler,
                    "model": "gb",
                    "n_estimators": int(rng.integers(10, 31)),
                    "max_depth": int(rng.integers(2, 4)),
                    "learning_rate": float(np.exp(rng.uniform(np.log(0.05), np.log(0.3)))),
                }
            )
    return out


def rf_configurations() -> list[dict[str, int]]:
    """The 30 RandomForest configurations of the RandomForest comparison (fixed seed)."""
    import numpy as np

    rng = np.random.default_rng(17)
    return [
        {"n_estimators": int(rng.integers(20, 101)), "max_depth": int(rng.integers(4, 17))}
        for _ in range(N_CONFIGS)
    ]


def measure_rf(name: str, folder: str) -> dict[str, Any]:
    """One side of the RandomForest comparison: the search and the refit of the best."""
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import KFold

    X, y = load_digits(return_X_y=True)
    configs = rf_configurations()
    folds = KFold(5, shuffle=True, random_state=1)
    if name == "tunelab-rf":
        import tunelab as kt

        def build(hp: Any) -> Any:
            return RandomForestClassifier(
                **configs[hp.Int("config", 0, N_CONFIGS - 1)], random_state=0
            )

        tuner = kt.tuners.Sklearn(
            oracle=kt.oracles.GridSearchOracle(
                objective=kt.Objective("score", "max"), max_trials=N_CONFIGS
            ),
            hypermodel=build,
            cv=folds,
            n_jobs=2,
            directory=folder,
            project_name="rf",
        )
        start = time.perf_counter()
        tuner.search(X, y, verbose=0)
        tuner.get_best_models(1)
        elapsed = time.perf_counter() - start
        fitted = sorted(
            (c["n_estimators"], c["max_depth"])
            for t in tuner.oracle.trials.values()
            for c in [configs[t.hyperparameters.get("config")]]
        )
        scores = [t.score for t in tuner.oracle.trials.values()]
    else:
        from sklearn.model_selection import RandomizedSearchCV

        grids = [{k: [v] for k, v in c.items()} for c in configs]
        search = RandomizedSearchCV(
            RandomForestClassifier(random_state=0),
            grids,
            n_iter=N_CONFIGS,
            cv=folds,
            n_jobs=2,
            random_state=0,
        )
        start = time.perf_counter()
        search.fit(X, y)
        elapsed = time.perf_counter() - start
        fitted = sorted((p["n_estimators"], p["max_depth"]) for p in search.cv_results_["params"])
        scores = list(search.cv_results_["mean_test_score"])
    # Both sides fit exactly the 30 configurations, each on the same 5 folds.
    assert fitted == sorted((c["n_estimators"], c["max_depth"]) for c in configs), fitted
    return {"seconds": elapsed, "trials": len(scores), "best_score": max(scores)}


def pipeline(config: dict[str, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    scaler = StandardScaler() if config["scaler"] == "standard" else MinMaxScaler()
    if config["model"] == "rf":
        model = RandomForestClassifier(
            n_estimators=config["n_estimators"], max_depth=config["max_depth"], random_state=0
        )
    else:
        model = GradientBoostingClassifier(
            n_estimators=config["n_estimators"],
            max_depth=config["max_depth"],
            learning_rate=config["learning_rate"],
            subsample=0.8,
            random_state=0,
        )
    return Pipeline([("scale", scaler), ("model", model)])


# -- workers --------------------------------------------------------------------------------
def measure(name: str) -> dict[str, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import KFold

    X, y = load_digits(return_X_y=True)
    configs = configurations()

    def build(hp: Any) -> Any:
        return pipeline(configs[hp.Int("config", 0, N_CONFIGS - 1)])

    folder = tempfile.mkdtemp(prefix="tunelab-sklearn-speed-")
    try:
        if name in MEASURES["rf"]:
            return measure_rf(name, folder)
        if name == "tunelab-tuner":
            import tunelab as kt

            tuner = kt.tuners.Sklearn(
                oracle=kt.oracles.GridSearchOracle(
                    objective=kt.Objective("score", "max"), max_trials=N_CONFIGS
                ),
                hypermodel=build,
                cv=KFold(5, shuffle=True, random_state=1),
                n_jobs=2,
                directory=folder,
                project_name="speed",
            )
            start = time.perf_counter()
            tuner.search(X, y, verbose=0)
            tuner.get_best_models(1)
            elapsed = time.perf_counter() - start
            trials = list(tuner.oracle.trials.values())
            scores = [t.score for t in trials]
        elif name == "kerastuner-tuner":
            import keras_tuner

            tuner = keras_tuner.SklearnTuner(
                oracle=keras_tuner.oracles.GridSearchOracle(
                    objective=keras_tuner.Objective("score", "max"), max_trials=N_CONFIGS
                ),
                hypermodel=build,
                cv=KFold(5, shuffle=True, random_state=1),
                directory=folder,
                project_name="speed",
            )
            start = time.perf_counter()
            tuner.search(X, y)
            tuner.get_best_models(1)
            elapsed = time.perf_counter() - start
            trials = list(tuner.oracle.trials.values())
            scores = [t.score for t in trials]
        else:
            from sklearn.ensemble import RandomForestClassifier
            from sklearn.model_selection import RandomizedSearchCV
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            estimator = make_pipeline(
                StandardScaler(), RandomForestClassifier(max_depth=8, random_state=0)
            )
            space = {"randomforestclassifier__n_estimators": N_ESTIMATORS}
            if name == "tunelab-searchcv":
                from tunelab_sklearn import TuneSearchCV

                search = TuneSearchCV(
                    estimator,
                    space,
                    n_trials=N_CONFIGS,
                    oracle="random",
                    cv=5,
                    n_jobs=2,
                    random_state=0,
                )
            else:
                search = RandomizedSearchCV(
                    estimator, space, n_iter=N_CONFIGS, cv=5, n_jobs=2, random_state=0
                )
            start = time.perf_counter()
            search.fit(X, y)
            elapsed = time.perf_counter() - start
            scores = list(search.cv_results_["mean_test_score"])
            assert (
                sorted(
                    p["randomforestclassifier__n_estimators"] for p in search.cv_results_["params"]
                )
                == N_ESTIMATORS
            )
        return {"seconds": elapsed, "trials": len(scores), "best_score": max(scores)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- parent ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", choices=sorted(MEASURES), default=None)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    runs: dict[str, list[dict[str, Any]]] = {}
    groups = [args.only] if args.only else list(MEASURES)
    for _ in range(args.repeats):
        for group in groups:
            for name in MEASURES[group]:  # alternate the two sides of a pair
                result = run_worker(__file__, [name], args.timeout)
                runs.setdefault(name, []).append(result)
                print(
                    f"  {LABELS[name]}: " + (result.get("error") or f"{result['seconds']:.1f} s"),
                    flush=True,
                )

    rows, summary = [], {}
    for group in groups:
        ours, theirs = MEASURES[group]
        a, b = median_of(runs[ours], "seconds"), median_of(runs[theirs], "seconds")
        speedup = ratio(b, a)
        if group == "tuner":
            verdict = None if speedup is None else speedup >= TUNER_TARGET
            goal = f">= {TUNER_TARGET}x faster"
        else:
            tolerance = RF_TOLERANCE if group == "rf" else SEARCHCV_TOLERANCE
            verdict = None if a is None or b is None else a <= b * (1 + tolerance)
            goal = f"within {tolerance:.0%}"
        summary[group] = {
            "tunelab_s": a,
            "peer_s": b,
            "peer_over_tunelab": speedup,
            "target": goal,
            "met": verdict,
        }
        for name, seconds in ((ours, a), (theirs, b)):
            rows.append(
                [
                    LABELS[name],
                    fmt(seconds, ".1f", " s"),
                    fmt(median_of(runs[name], "best_score"), ".4f"),
                ]
            )
        rows.append(
            [
                f"  -> peer / tunelab (target {goal})",
                fmt(speedup, ".2f", "x"),
                {True: "met", False: "NOT met", None: "-"}[verdict],
            ]
        )
    print()
    print(table(["measurement (median)", "wall clock", "best CV score"], rows))
    # One section (--only) goes to a file of its own: the full report keeps the others.
    path = write_report(
        f"sklearn_speed_{args.only}" if args.only else "sklearn_speed",
        {
            "configurations": configurations(),
            "searchcv_values": N_ESTIMATORS,
            "rf_configurations": rf_configurations(),
            "repeats": args.repeats,
            "load_average": os.getloadavg(),
            "runs": runs,
            "summary": summary,
        },
    )
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        import json

        print(json.dumps(measure(sys.argv[2])))
    else:
        main()
