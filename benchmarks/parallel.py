"""Parallel trials: speed of the process pool and of Dask against one trial at a time, and
search quality of a Bayesian search with 2 parallel workers against a sequential one.

Every trial is a real scikit-learn fit of about one second: a gradient-boosting classifier
on 2,000 generated samples, scored on 1,000 held-out ones. Every process runs single
threaded (OMP/BLAS threads = 1), so one trial uses one core and the speedup measures the
executors, not a library's own threads.

Run: ``uv run --frozen python benchmarks/parallel.py`` (about 4 minutes on 2 free cores;
``--quick`` for a short check). Prints a table; writes benchmarks/results/parallel.json.
``--skip-speed --seeds 5`` runs only the search-quality part (not timing-sensitive) and
writes benchmarks/results/parallel_quality.json.
The machine may be shared: the load average before and after each measurement is recorded,
and the same fits are also timed in 2 plain forked processes without any tuner (the
"machine ceiling"): no executor can beat that speedup on the machine at that moment.
"""

from __future__ import annotations

import os

# Before numpy / scikit-learn load: one thread per process (workers inherit this).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import tunelab as kt  # noqa: E402
from tunelab.executors import ProcessPoolExecutor  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "parallel.json"
QUALITY_RESULTS = RESULTS.with_name("parallel_quality.json")
WORKERS = 2


def make_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=3000, n_features=20, n_informative=8, flip_y=0.05, random_state=seed
    )
    return x[:2000], y[:2000], x[2000:], y[2000:]


N_ESTIMATORS = int(os.environ.get("TUNELAB_BENCH_ESTIMATORS", "200"))


def fit_and_score(hp: Any, x_train: Any, y_train: Any, x_val: Any, y_val: Any) -> dict:
    """One trial: fit a gradient-boosting classifier (about 1 s on an idle core) and score it."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import accuracy_score, log_loss

    model = GradientBoostingClassifier(
        n_estimators=N_ESTIMATORS,
        learning_rate=hp.Float("learning_rate", 1e-2, 1.0, sampling="log"),
        max_depth=hp.Choice("max_depth", [2, 3]),
        subsample=hp.Float("subsample", 0.5, 1.0),
        min_samples_leaf=hp.Int("min_samples_leaf", 1, 50),
        random_state=0,
    ).fit(x_train, y_train)
    proba = model.predict_proba(x_val)
    return {
        "val_loss": float(log_loss(y_val, proba)),
        "val_accuracy": float(accuracy_score(y_val, proba.argmax(axis=1))),
    }


def run_search(
    tuner_class: type, data: tuple, max_trials: int, seed: int, executor: Any, **kwargs: Any
) -> dict[str, Any]:
    directory = tempfile.mkdtemp(prefix="tunelab-parallel-")
    try:
        tuner = tuner_class(
            fit_and_score,
            objective="val_loss",
            max_trials=max_trials,
            seed=seed,
            directory=directory,
            project_name="bench",
            overwrite=True,
            **kwargs,
        )
        load_before = os.getloadavg()
        started = time.perf_counter()
        tuner.search(*data, executor=executor, verbose=0)
        seconds = time.perf_counter() - started
        trials = list(tuner.oracle.trials.values())
        completed = [t for t in trials if t.status == "COMPLETED"]
        return {
            "seconds": seconds,
            "trials": len(trials),
            "completed": len(completed),
            "best_val_loss": min(t.score for t in completed),
            "configurations": sorted(
                json.dumps(t.hyperparameters.values, sort_keys=True) for t in trials
            ),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        }
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _fits(data: tuple, count: int) -> float:
    """`count` trials' fits at default values, in this process; returns the seconds."""
    started = time.perf_counter()
    for _ in range(count):
        fit_and_score(kt.HyperParameters(), *data)
    return time.perf_counter() - started


def ceiling(data: tuple, fits: int = 4) -> dict[str, Any]:
    """What this machine gives 2 processes right now: the same fits one after the other,
    then split over 2 plain forked processes (no tuner at all). Its speedup bounds any
    executor's on this machine at this load."""
    import multiprocessing

    sequential = _fits(data, fits)
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(WORKERS) as pool:
        pool.starmap(_fits, [(data, fits // WORKERS)] * WORKERS)
    parallel = time.perf_counter() - started
    return {
        "fits": fits,
        "sequential_seconds": sequential,
        "two_processes_seconds": parallel,
        "speedup": sequential / parallel,
        "loadavg": os.getloadavg(),
    }


def _import_sklearn() -> None:
    import sklearn.ensemble  # noqa: F401
    import sklearn.metrics  # noqa: F401


def speed(data: tuple, trials: int, dask: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"speed: {trials} random-search trials, sequential / process pool / Dask", flush=True)
    out["sequential"] = run_search(kt.RandomSearch, data, trials, 0, "inline")
    out["process_pool"] = run_search(kt.RandomSearch, data, trials, 0, ProcessPoolExecutor(WORKERS))
    out["process_pool"]["note"] = "worker start included in the time"
    if dask:
        out["dask"] = dask_speed(data, trials)
    base = out["sequential"]["seconds"]
    for name in out:
        if name != "sequential":
            out[name]["speedup"] = base / out[name]["seconds"]
            out[name]["same_configurations_as_sequential"] = (
                out[name]["configurations"] == out["sequential"]["configurations"]
            )
    for result in out.values():
        del result["configurations"]
    return out


def dask_speed(data: tuple, trials: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=WORKERS, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = Client(cluster)
    # A running cluster has its libraries loaded; the pool's forked workers inherit the
    # driver's. Import scikit-learn on the workers before timing, as a warm cluster would.
    client.run(_import_sklearn)
    cluster_start = time.perf_counter() - started
    try:
        result = run_search(kt.RandomSearch, data, trials, 0, client)
    finally:
        client.close()
        cluster.close()
    result["cluster_start_seconds"] = cluster_start
    result["note"] = "cluster started and scikit-learn imported on its workers before timing"
    return result


def quality(
    data: tuple, trials: int, seeds: list[int], lies: list[str] | None = None
) -> dict[str, Any]:
    """Best val_loss of a sequential Bayesian search and of one with `WORKERS` parallel
    workers, per seed. `lies`: also run the parallel search with these values for the
    trials still running (see BayesianOptimizationOracle._pending_lie), as "parallel_<lie>"."""
    oracle_class = kt.oracles.BayesianOptimizationOracle
    default = oracle_class._pending_lie
    variants = [("sequential", "inline", default), ("parallel", "pool", default)]
    variants += [(f"parallel_{lie}", "pool", lie) for lie in lies or [] if lie != default]
    print(
        f"quality: Bayesian, {trials} trials, seeds {seeds}, 1 vs {WORKERS} workers "
        f"(pending trials: {default!r}{''.join(f', {v[2]!r}' for v in variants[2:])})",
        flush=True,
    )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    try:
        for seed in seeds:
            for name, where, lie in variants:
                oracle_class._pending_lie = lie
                executor = "inline" if where == "inline" else ProcessPoolExecutor(WORKERS)
                result = run_search(kt.BayesianOptimization, data, trials, seed, executor)
                del result["configurations"]
                runs[name].append({"seed": seed, "pending_lie": lie, **result})
                print(
                    f"  seed {seed} {name}: best val_loss {result['best_val_loss']:.4f}",
                    flush=True,
                )
    finally:
        oracle_class._pending_lie = default
    return summarize(runs, default)


def summarize(runs: dict[str, list[dict[str, Any]]], default: str) -> dict[str, Any]:
    """The quality report of `runs` (variant -> one row per seed, seeds in the same order)."""
    summary = {
        name: {
            "mean_best_val_loss": statistics.fmean(r["best_val_loss"] for r in rows),
            "median_best_val_loss": statistics.median(r["best_val_loss"] for r in rows),
            "mean_seconds": statistics.fmean(r["seconds"] for r in rows),
        }
        for name, rows in runs.items()
    }
    wins = {
        name: sum(
            p["best_val_loss"] <= s["best_val_loss"]
            for s, p in zip(runs["sequential"], rows, strict=True)
        )
        for name, rows in runs.items()
        if name != "sequential"
    }
    return {
        "pending_lie": default,
        "runs": runs,
        "summary": summary,
        "parallel_no_worse_in_seeds": wins["parallel"],
        "no_worse_than_sequential_in_seeds": wins,
        "paired_difference": {
            name: _paired(runs["sequential"], rows)
            for name, rows in runs.items()
            if name != "sequential"
        },
    }


def _paired(sequential: list[dict[str, Any]], parallel: list[dict[str, Any]]) -> dict[str, float]:
    """Parallel minus sequential best val_loss, seed by seed: mean, its standard error and a
    95% interval (normal approximation); an interval that holds 0 cannot tell them apart."""
    diffs = [
        p["best_val_loss"] - s["best_val_loss"] for s, p in zip(sequential, parallel, strict=True)
    ]
    mean = statistics.fmean(diffs)
    se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else math.nan
    return {
        "mean": mean,
        "standard_error": se,
        "low_95": mean - 1.96 * se,
        "high_95": mean + 1.96 * se,
    }


def merge_quality(paths: list[Path]) -> dict[str, Any]:
    """One quality report from reports of disjoint seeds (runs split to stay short)."""
    reports = [json.loads(path.read_text())["quality"] for path in paths]
    runs: dict[str, list[dict[str, Any]]] = {}
    for report in reports:
        for name, rows in report["runs"].items():
            runs.setdefault(name, []).extend(rows)
    for rows in runs.values():
        rows.sort(key=lambda row: row["seed"])
    return summarize(runs, reports[0]["pending_lie"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=24, help="trials of the speed runs")
    parser.add_argument("--quality-trials", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the quality runs")
    parser.add_argument(
        "--pending-lies",
        default="",
        help="comma-separated ways to count pending trials to compare too (fantasies, mean, min, max, believer)",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, ...")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="write one quality report from these JSON reports (of disjoint seeds)",
    )
    parser.add_argument("--quick", action="store_true", help="a short check (4 trials, 1 seed)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument(
        "--skip-speed",
        action="store_true",
        help="quality only (default output: parallel_quality.json)",
    )
    parser.add_argument("--skip-dask", action="store_true", help="no Dask LocalCluster run")
    parser.add_argument("--host-note", default="", help="a word on the machine, kept in the JSON")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.skip_speed and args.skip_quality:
        parser.error("--skip-speed with --skip-quality leaves nothing to run")
    if args.output is None:
        args.output = QUALITY_RESULTS if args.skip_speed or args.merge else RESULTS
    if args.merge:
        merged = {"benchmark": "parallel trials", "merged_from": [str(p) for p in args.merge]}
        merged["quality"] = merge_quality(args.merge)
        print_quality(merged["quality"])
        args.output.write_text(json.dumps(merged, indent=2) + "\n")
        print(f"written {args.output}")
        return merged
    if args.quick:
        args.trials, args.quality_trials, args.seeds = 4, 4, 1
    data = make_data()
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "parallel trials",
        "workers": WORKERS,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "host_note": args.host_note,
        "trial": f"GradientBoostingClassifier(n_estimators={N_ESTIMATORS}) on 2000x20, scored on 1000",
    }
    if not args.skip_speed:
        report["machine_ceiling_before"] = ceiling(data)
        report["speed"] = speed(data, args.trials, dask=not args.skip_dask)
        report["machine_ceiling_after"] = ceiling(data)
    if not args.skip_quality:
        lies = [lie for lie in args.pending_lies.split(",") if lie]
        report["quality"] = quality(
            data,
            args.quality_trials,
            list(range(args.first_seed, args.first_seed + args.seeds)),
            lies,
        )
    report["loadavg_at_end"] = os.getloadavg()
    report["total_seconds"] = time.perf_counter() - started
    print_table(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.output}")
    return report


def print_table(report: dict[str, Any]) -> None:
    if "speed" in report:
        print_speed(report)
    if "quality" in report:
        print_quality(report["quality"])


def print_speed(report: dict[str, Any]) -> None:
    speed_rows = report["speed"]
    print(f"\n{'executor':<16}{'trials':>8}{'seconds':>10}{'speedup':>9}{'target':>8}  load avg")
    targets = {"process_pool": 1.8, "dask": 1.7}
    for name, row in speed_rows.items():
        speedup = f"{row['speedup']:.2f}x" if "speedup" in row else "1.00x"
        target = f"{targets[name]:.1f}x" if name in targets else ""
        load = f"{row['loadavg_before'][0]:.1f} -> {row['loadavg_after'][0]:.1f}"
        print(
            f"{name:<16}{row['completed']:>8}{row['seconds']:>10.1f}{speedup:>9}{target:>8}  {load}"
        )
    for key in ("machine_ceiling_before", "machine_ceiling_after"):
        row = report[key]
        print(
            f"{'plain 2 procs':<16}{row['fits']:>8}{row['two_processes_seconds']:>10.1f}"
            f"{row['speedup']:>8.2f}x{'':>8}  load {row['loadavg'][0]:.1f}  ({key.split('_')[-1]}:"
            " the machine's own ceiling, no tuner)"
        )


def print_quality(quality: dict[str, Any]) -> None:
    print(f"\n{'Bayesian':<16}{'mean best val_loss':>20}{'median':>10}{'mean s':>9}")
    for name, row in quality["summary"].items():
        print(
            f"{name:<16}{row['mean_best_val_loss']:>20.4f}"
            f"{row['median_best_val_loss']:>10.4f}{row['mean_seconds']:>9.1f}"
        )
    seeds = len(quality["runs"]["sequential"])
    for name, wins in quality["no_worse_than_sequential_in_seeds"].items():
        print(f"{name} no worse than sequential in {wins} of {seeds} seeds")
    for name, d in quality.get("paired_difference", {}).items():
        print(
            f"{name} minus sequential, per seed: mean {d['mean']:+.4f} "
            f"(95% interval {d['low_95']:+.4f} to {d['high_95']:+.4f})"
        )


if __name__ == "__main__":
    main()
