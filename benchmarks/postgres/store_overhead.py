"""The PostgreSQL store's overhead per trial, next to Optuna's RDBStorage on the same server,
and the throughput of several processes sharing one study.

A throwaway server is started for the run (``initdb`` + ``pg_ctl``, the system package's
binaries, default durability settings; see tests/postgres/pg_server.py); every measurement
gets a fresh database on it. The objective is a quadratic of two floats and an int that
returns at once, so what is timed is the library's loop and its store.

* one process: ``kt.RandomSearch(fn, max_trials=N, storage=URL).search()`` vs Optuna's
  ``RandomSampler`` with ``storage="postgresql+psycopg://..."`` and ``study.optimize``;
  time per trial = wall time of construction + loop / N, after a 5-trial warm-up in the
  same process (imports are not counted); the median of ``--repeats`` runs.
* P processes (``--procs``, default 4) join one study of N trials: every process imports,
  waits at a barrier, then searches until the study has its N trials; total trials/s =
  N / (last end - first start), against one process measured the same way. Run twice:
  with the trivial objective (bound by the machine's CPU cores: clients and server share
  them) and with objectives that wait ``--wait-ms`` milliseconds (trials that compute
  elsewhere, as real ones do: what the store's locking allows).

Run::

    uv run --frozen --group bench python benchmarks/postgres/store_overhead.py \
        [--trials 1000] [--repeats 3] [--procs 4] [--wait-ms 20,100] [--baseline-src DIR]

``--baseline-src DIR`` (a ``packages/core/src`` of another tunelab, e.g. from ``git archive
main packages/core/src``) adds rows ``tunelab@baseline`` to the shared-study table, each
measured just before this checkout's on the same server: a change compared side by side
under the same load.

Results: a table on stdout and JSON in ``benchmarks/postgres/results.json`` (with the
command and the machine's core count).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "postgres"))

from pg_server import Server, find_bin  # noqa: E402  (tests/postgres is not a package)


def _quadratic(x: float, y: float, z: int) -> float:
    return (x - 0.3) ** 2 + (y + 0.1) ** 2 + (z - 3) ** 2


def run_tunelab(url: str, trials: int, directory: str, wait: float = 0.0) -> int:
    import tunelab as kt

    def objective(hp: Any) -> float:
        if wait:
            time.sleep(wait)
        return _quadratic(hp.Float("x", -1.0, 1.0), hp.Float("y", -1.0, 1.0), hp.Int("z", 0, 10))

    tuner = kt.RandomSearch(
        objective,
        objective="loss",
        max_trials=trials,
        directory=directory,
        project_name="bench",
        storage=url,
        max_consecutive_failed_trials=None,
    )
    tuner.search(verbose=0)
    return len(tuner.oracle.trials)


def _optuna_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def run_optuna(url: str, trials: int, wait: float = 0.0, share: bool = False) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        if wait:
            time.sleep(wait)
        return _quadratic(
            trial.suggest_float("x", -1.0, 1.0),
            trial.suggest_float("y", -1.0, 1.0),
            trial.suggest_int("z", 0, 10),
        )

    study = optuna.create_study(
        study_name="bench",
        storage=_optuna_url(url),
        sampler=optuna.samplers.RandomSampler(),
        load_if_exists=share,
    )
    if not share:
        study.optimize(objective, n_trials=trials)
        return trials
    # Shared: stop when the study as a whole has its trials (Optuna's MaxTrialsCallback).
    from optuna.study import MaxTrialsCallback

    study.optimize(objective, callbacks=[MaxTrialsCallback(trials)])
    return trials


def _one(library: str, url: str, warm_url: str, trials: int) -> float:
    """Seconds per trial of one search in this process (after a warm-up)."""
    with tempfile.TemporaryDirectory() as folder:
        if library == "tunelab":
            run_tunelab(warm_url, 5, folder)
            started = time.perf_counter()
            run_tunelab(url, trials, folder)
        else:
            run_optuna(warm_url, 5)
            started = time.perf_counter()
            run_optuna(url, trials)
        return (time.perf_counter() - started) / trials


def _worker(
    library: str, url: str, trials: int, wait: float, barrier: Any, out: Any, src: str | None
) -> None:
    if src is not None:
        sys.path.insert(0, src)  # before tunelab is imported: that tunelab runs here
    with tempfile.TemporaryDirectory() as folder:
        if library == "tunelab":
            import tunelab

            assert src is None or tunelab.__file__.startswith(src), tunelab.__file__
        else:
            import optuna  # noqa: F401
        barrier.wait()
        started = time.time()
        if library == "tunelab":
            run_tunelab(url, trials, folder, wait)
        else:
            run_optuna(url, trials, wait, share=True)
        out.put((started, time.time()))


def _shared(
    library: str, url: str, trials: int, procs: int, wait: float, src: str | None = None
) -> float:
    """Trials per second of `procs` processes sharing one study of `trials` trials (with
    tunelab imported from `src`, if given)."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(procs), context.Queue()
    if library == "optuna":  # created once, then joined (as tunelab's processes do)
        import optuna

        optuna.create_study(study_name="bench", storage=_optuna_url(url))
    workers = [
        context.Process(target=_worker, args=(library, url, trials, wait, barrier, out, src))
        for _ in range(procs)
    ]
    for worker in workers:
        worker.start()
    spans = [out.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join()
    return trials / (max(end for _, end in spans) - min(start for start, _ in spans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--wait-ms", default="20,100", help="comma-separated waits")
    parser.add_argument("--shared-trials", type=int, default=None, help="default: --trials")
    parser.add_argument("--output", default=str(Path(__file__).with_name("results.json")))
    parser.add_argument(
        "--baseline-src", default=None, help="another tunelab's packages/core/src, side by side"
    )
    args = parser.parse_args()
    if args.baseline_src and not (Path(args.baseline_src) / "tunelab" / "__init__.py").is_file():
        sys.exit(f"--baseline-src {args.baseline_src!r}: expected a folder holding tunelab/")
    bindir = find_bin()
    if bindir is None:
        sys.exit("no PostgreSQL server binaries: apt-get install postgresql")
    server = Server(bindir)
    names = iter(range(10**6))

    def fresh() -> str:
        return server.new_database(f"b{next(names)}")

    report: dict[str, Any] = {
        "command": "python benchmarks/postgres/store_overhead.py " + " ".join(sys.argv[1:]),
        "cpu_cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "trials": args.trials,
        "repeats": args.repeats,
        "baseline_src": args.baseline_src,
    }
    try:
        per_trial: dict[str, list[float]] = {"tunelab": [], "optuna": []}
        for _ in range(args.repeats):
            for library in per_trial:
                per_trial[library].append(_one(library, fresh(), fresh(), args.trials))
        ms = {k: statistics.median(v) * 1000 for k, v in per_trial.items()}
        report["ms_per_trial"] = ms
        report["ms_per_trial_runs"] = {k: [t * 1000 for t in v] for k, v in per_trial.items()}
        report["tunelab_over_optuna"] = ms["tunelab"] / ms["optuna"]
        shared_n = args.shared_trials or args.trials
        report["shared_trials"] = shared_n
        scaling: dict[str, Any] = {}
        waits = [float(w) for w in args.wait_ms.split(",") if w]
        variants = [("trivial", 0.0)] + [(f"wait_{w:g}ms", w / 1000) for w in waits]
        libraries = ["tunelab", "optuna"]
        if args.baseline_src:
            libraries.insert(0, "tunelab@baseline")
        for label, wait in variants:
            for library in libraries:
                src = args.baseline_src if library == "tunelab@baseline" else None
                name = library.split("@")[0]
                one = _shared(name, fresh(), shared_n, 1, wait, src)
                many = _shared(name, fresh(), shared_n, args.procs, wait, src)
                scaling[f"{library}/{label}"] = {
                    "trials_per_s_1_proc": one,
                    f"trials_per_s_{args.procs}_procs": many,
                    "speedup": many / one,
                }
        report["shared_study"] = scaling
    finally:
        server.close()
    report["load_average_at_end"] = os.getloadavg()[0]
    report["targets"] = {"at_most_half_of_optuna_per_trial": report["tunelab_over_optuna"] <= 0.5}
    for key, row in scaling.items():
        if key.startswith("tunelab/"):
            name = f"{args.procs}_procs_at_least_3x_one ({key.split('/')[1]})"
            report["targets"][name] = row["speedup"] >= 3
    print(f"PostgreSQL store, random search, {args.trials} trials, median of {args.repeats}")
    print(f"{'library':<10} {'ms/trial':>9}")
    for library, value in ms.items():
        print(f"{library:<10} {value:>9.3f}")
    print(f"tunelab/Optuna time per trial: {report['tunelab_over_optuna']:.3f}")
    print(
        f"\nOne study shared by {args.procs} processes ({shared_n} trials; "
        f"{os.cpu_count()} CPU cores for clients and server)"
    )
    print(f"{'library/objective':<30} {'1 proc t/s':>11} {f'{args.procs} procs t/s':>12} {'x':>6}")
    for key, row in scaling.items():
        many = row[f"trials_per_s_{args.procs}_procs"]
        print(f"{key:<30} {row['trials_per_s_1_proc']:>11.1f} {many:>12.1f} {row['speedup']:>6.2f}")
    print("\nTargets:", json.dumps(report["targets"], indent=1))
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
