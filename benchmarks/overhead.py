"""Oracle + store overhead per trial: tunelab vs KerasTuner vs Optuna, random search.

Each library runs the same trivial objective (a quadratic of two floats and an int that
returns at once) through its own full loop with its state persisted to disk:

* ``tunelab``: ``kt.RandomSearch(fn, objective=..., max_trials=N, directory=...)`` and
  ``search(verbose=0)``, i.e. ask -> run_trial -> tell with the SQLite trial store.
* ``kerastuner``: KerasTuner's ``RandomSearchOracle`` driven by its own ``BaseTuner.search``
  loop (a subclass whose ``run_trial`` returns the objective value), which writes each
  trial's ``trial.json``, ``oracle.json`` and the tuner's state at every trial.
* ``optuna``: ``RandomSampler`` with RDB storage ``sqlite:///...`` and ``study.optimize``.
* ``optuna-wal`` (reference only): the same, with the SQLite file in WAL mode and
  ``synchronous=NORMAL``, the settings tunelab's store uses, to separate the cost of fsync
  from the cost of the library.

Per-trial overhead is total wall time (construction + store creation + loop) / trials. Each
measurement runs in a fresh process after a 5-trial warm-up in the same process (so one-time
import costs are not counted), and the median over ``--repeats`` runs is reported. A run
past ``--budget`` seconds stops early and is reported on the trials it completed (marked).

Run::

    python benchmarks/overhead.py [--sizes 100,1000,5000] [--repeats 3] [--budget 300]

Results: a table on stdout and ``benchmarks/results/overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402  (the benchmarks folder is not a package)
    X_RANGE,
    Y_RANGE,
    Z_RANGE,
    Stamps,
    add_run_arguments,
    aggregate,
    fmt,
    quadratic,
    ratio,
    run_worker,
    summarize_run,
    table,
    worker_main,
    write_report,
)

LIBRARIES = ("tunelab", "kerastuner", "optuna", "optuna-wal")
LABELS = {
    "tunelab": "tunelab",
    "kerastuner": "KerasTuner",
    "optuna": "Optuna",
    "optuna-wal": "Optuna (WAL)",
}
WARMUP_TRIALS = 5
# Targets from the issue: at least 5x less overhead than KerasTuner, no more than Optuna,
# flat. "Flat" is read as: per-trial time at the largest size within 25% of the smallest.
TARGET_VS_KERASTUNER = 0.2
TARGET_VS_OPTUNA = 1.0
FLAT_TOLERANCE = 1.25


# -- one library, one run -----------------------------------------------------------------
def run_tunelab(directory: str, n: int, stamps: Stamps) -> tuple[float, int]:
    import tunelab as kt

    def objective(hp: kt.HyperParameters) -> float:
        stamps.hit()
        value = quadratic(hp.Float("x", *X_RANGE), hp.Float("y", *Y_RANGE), hp.Int("z", *Z_RANGE))
        if stamps.over_budget():  # the next ask() finds max_trials reached
            tuner.oracle.max_trials = len(stamps.times)
        return value

    stamps.start()
    tuner = kt.RandomSearch(
        objective,
        objective=kt.Objective("loss", "min"),
        max_trials=n,
        seed=0,
        directory=directory,
        project_name="bench",
    )
    tuner.search(verbose=0)
    t_end = time.perf_counter()
    return t_end, sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def run_kerastuner(directory: str, n: int, stamps: Stamps) -> tuple[float, int]:
    import keras_tuner
    from keras_tuner.engine.base_tuner import BaseTuner

    def hypermodel(hp: Any) -> float:
        return quadratic(hp.Float("x", *X_RANGE), hp.Float("y", *Y_RANGE), hp.Int("z", *Z_RANGE))

    class FunctionTuner(BaseTuner):
        # KerasTuner's own loop (create_trial, run_trial, update_trial, end_trial, save);
        # only the trial's work is ours.
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            stamps.hit()
            value = hypermodel(trial.hyperparameters)
            if stamps.over_budget():  # the next create_trial() returns STOPPED
                self.oracle.max_trials = len(self.oracle.trials)
            return value

    stamps.start()
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("loss", "min"), max_trials=n, seed=0
    )
    tuner = FunctionTuner(oracle, hypermodel=hypermodel, directory=directory, project_name="bench")
    tuner.search(verbose=0)
    t_end = time.perf_counter()
    return t_end, sum(t.status == "COMPLETED" for t in oracle.trials.values())


def optuna_storage(directory: str, wal: bool) -> Any:
    """Optuna's RDB storage on a SQLite file; with `wal`, tunelab's durability settings."""
    import optuna

    Path(directory).mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory}/optuna.db"
    if not wal:
        return url
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(url)

    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # later connections get the pragmas
    return storage


def run_optuna(directory: str, n: int, stamps: Stamps, wal: bool = False) -> tuple[float, int]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        stamps.hit()
        value = quadratic(
            trial.suggest_float("x", *X_RANGE),
            trial.suggest_float("y", *Y_RANGE),
            trial.suggest_int("z", *Z_RANGE),
        )
        if stamps.over_budget():
            trial.study.stop()
        return value

    stamps.start()
    study = optuna.create_study(
        storage=optuna_storage(directory, wal),
        study_name="bench",
        direction="minimize",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.optimize(objective, n_trials=n)
    t_end = time.perf_counter()
    states = (optuna.trial.TrialState.COMPLETE,)
    return t_end, len(study.get_trials(deepcopy=False, states=states))


RUNNERS = {
    "tunelab": run_tunelab,
    "kerastuner": run_kerastuner,
    "optuna": run_optuna,
    "optuna-wal": lambda d, n, s: run_optuna(d, n, s, wal=True),
}


def measure(library: str, n: int, budget_s: float) -> dict[str, Any]:
    """Warm up with a few trials, then time `n` trials (in fresh project folders)."""
    runner = RUNNERS[library]
    root = tempfile.mkdtemp(prefix=f"tunelab-bench-{library}-")
    try:
        runner(f"{root}/warmup", WARMUP_TRIALS, Stamps(budget_s))
        stamps = Stamps(budget_s)
        t_end, completed = runner(f"{root}/run", n, stamps)
        return summarize_run(stamps, t_end, n, completed)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- the whole benchmark --------------------------------------------------------------------
def cell(summary: dict[str, Any] | None, key: str = "per_trial_ms") -> str:
    if not summary or "error" in summary or summary.get(key) is None:
        return "n/a"
    mark = "*" if summary.get("capped") else ""
    return fmt(summary[key], ".3f") + mark


def report(
    results: dict[str, dict[int, dict[str, Any]]], sizes: list[int], libraries: list[str]
) -> tuple[str, dict[str, Any]]:
    """The printed tables and the ratios/verdicts for the JSON report."""
    rows, ratios = [], {}
    for n in sizes:
        mine = results["tunelab"][n].get("per_trial_ms") if "tunelab" in results else None
        kt_ = results.get("kerastuner", {}).get(n, {}).get("per_trial_ms")
        op = results.get("optuna", {}).get(n, {}).get("per_trial_ms")
        opw = results.get("optuna-wal", {}).get(n, {}).get("per_trial_ms")
        ratios[n] = {
            "tunelab/kerastuner": ratio(mine, kt_),
            "tunelab/optuna": ratio(mine, op),
            "tunelab/optuna-wal": ratio(mine, opw),
        }
        r = ratios[n]
        rows.append(
            [
                str(n),
                *(cell(results.get(lib, {}).get(n)) for lib in libraries),
                fmt(r["tunelab/kerastuner"], ".3f"),
                fmt(r["tunelab/optuna"], ".4f"),
            ]
        )
    headers = [
        "trials",
        *(f"{LABELS[lib]} ms/trial" for lib in libraries),
        "tunelab/KerasTuner",
        "tunelab/Optuna",
    ]
    text = [table(headers, rows)]
    capped = [
        f"{LABELS[lib]} at {n}: {int(s['completed_trials'])} of {n} trials"
        for lib in libraries
        for n, s in results.get(lib, {}).items()
        if s.get("capped")
    ]
    if capped:
        text.append(
            "* stopped by the time budget; per-trial time measured on the completed "
            "trials (" + "; ".join(capped) + ")"
        )

    small, large = min(sizes), max(sizes)
    flat_rows, flatness = [], {}
    for lib in libraries:
        a, b = results.get(lib, {}).get(small, {}), results.get(lib, {}).get(large, {})
        f = {
            "per_trial": ratio(b.get("per_trial_ms"), a.get("per_trial_ms")),
            "loop_per_trial": ratio(b.get("loop_per_trial_ms"), a.get("loop_per_trial_ms")),
            "within_largest_run": ratio(b.get("last_tenth_ms"), b.get("first_tenth_ms")),
            "within_largest_run_median": ratio(
                b.get("last_tenth_median_ms"), b.get("first_tenth_median_ms")
            ),
        }
        flatness[lib] = f
        flat_rows.append(
            [
                LABELS[lib],
                fmt(f["per_trial"], ".2f"),
                fmt(f["loop_per_trial"], ".2f"),
                fmt(b.get("first_tenth_ms"), ".3f"),
                fmt(b.get("last_tenth_ms"), ".3f"),
                fmt(f["within_largest_run"], ".2f"),
                fmt(b.get("first_tenth_median_ms"), ".3f"),
                fmt(b.get("last_tenth_median_ms"), ".3f"),
                fmt(f["within_largest_run_median"], ".2f"),
            ]
        )
    text.append(
        f"\nFlatness (1.00 = flat): time per trial at {large} / at {small} trials, and "
        f"within the {large}-trial run, last tenth / first tenth (mean, then median "
        "of the per-trial intervals)"
    )
    text.append(
        table(
            [
                "library",
                f"total {large}/{small}",
                f"loop {large}/{small}",
                "first tenth ms",
                "last tenth ms",
                "last/first",
                "first med ms",
                "last med ms",
                "med last/first",
            ],
            flat_rows,
        )
    )

    verdict: dict[str, Any] = {}
    vs_kt = [r["tunelab/kerastuner"] for r in ratios.values() if r["tunelab/kerastuner"]]
    vs_op = [r["tunelab/optuna"] for r in ratios.values() if r["tunelab/optuna"]]
    flat = flatness.get("tunelab", {})
    if vs_kt:
        verdict["5x_less_than_kerastuner"] = max(vs_kt) <= TARGET_VS_KERASTUNER
    if vs_op:
        verdict["no_more_than_optuna"] = max(vs_op) <= TARGET_VS_OPTUNA
    if flat.get("loop_per_trial") is not None:
        # The within-run test uses medians: per-trial means on a shared machine mostly
        # measure the other processes (both are in the table and the JSON).
        within = flat.get("within_largest_run_median")
        verdict["flat"] = (
            flat["loop_per_trial"] <= FLAT_TOLERANCE
            and within is not None
            and within <= FLAT_TOLERANCE
        )
    text.append(
        "\nTargets for tunelab: "
        + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items())
    )
    return "\n".join(text), {"ratios": ratios, "flatness": flatness, "targets": verdict}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, "100,1000,5000", LIBRARIES)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON report path (default: benchmarks/results/overhead.json)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="re-render the tables and verdicts from the raw runs kept in an earlier JSON report",
    )
    args = parser.parse_args(argv)
    if args.from_json is not None:
        earlier = json.loads(args.from_json.read_text())
        args.sizes = ",".join(str(n) for n in earlier["sizes"])
        args.repeats, args.budget = earlier["repeats"], earlier["budget_s"]
        args.libraries = ",".join(earlier["results"])
    sizes = sorted(int(s) for s in args.sizes.split(","))
    libraries = [lib for lib in args.libraries.split(",") if lib]
    unknown = sorted(set(libraries) - set(LIBRARIES))
    if unknown or "tunelab" not in libraries:
        parser.error(f"--libraries={args.libraries!r}: expected tunelab plus any of {LIBRARIES}")
    if args.repeats < 1 or min(sizes) < 20:
        parser.error("--repeats must be >= 1 and every size >= 20")

    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        lib: {n: [] for n in sizes} for lib in libraries
    }
    missing: set[str] = set()
    if args.from_json is not None:
        for lib, by_n in earlier["results"].items():
            for n, summary in by_n.items():
                runs[lib][int(n)] = summary["runs"]
    for repeat in range(0 if args.from_json is not None else args.repeats):
        for n in sizes:
            for lib in libraries:  # interleaved, so machine noise hits every library alike
                if lib in missing:
                    continue
                result = run_worker(
                    __file__, [lib, str(n), str(args.budget)], timeout_s=2 * args.budget + 300
                )
                runs[lib][n].append(result)
                shown = result.get("error") or (
                    f"{result['per_trial_ms']:.3f} ms/trial ({result['completed_trials']} trials)"
                )
                print(
                    f"[{repeat + 1}/{args.repeats}] {lib:<11} N={n:<6} {shown}",
                    file=sys.stderr,
                    flush=True,
                )
                if str(result.get("error", "")).startswith("not installed"):
                    missing.add(lib)

    results = {lib: {n: aggregate(r) for n, r in by_n.items()} for lib, by_n in runs.items()}
    text, summary = report(results, sizes, libraries)
    print(
        f"Oracle + store overhead per trial, random search, median of {args.repeats} "
        "run(s) (ms = total wall time / trials)\n"
    )
    print(text)
    path = write_report(
        "overhead",
        {
            "sizes": sizes,
            "repeats": args.repeats,
            "budget_s": args.budget,
            "warmup_trials": WARMUP_TRIALS,
            "metric": "per_trial_ms = total wall time / trials",
            "results": {lib: {str(n): s for n, s in by_n.items()} for lib, by_n in results.items()},
            **{
                k: ({str(n): v for n, v in s.items()} if k == "ratios" else s)
                for k, s in summary.items()
            },
        },
        args.out,
    )
    print(f"\nWritten {path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(measure, sys.argv[2:])
    else:
        sys.exit(main())
