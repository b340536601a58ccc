"""Ask/tell round trip per trial: tunelab's oracle vs Optuna's study, both on SQLite.

One trial is ``ask`` -> read three values -> compute a trivial quadratic -> ``tell``:

* ``tunelab``: ``RandomSearchOracle(..., directory=...)`` (the SQLite trial store),
  ``trial = oracle.ask()`` and ``oracle.tell(trial, value)``.
* ``optuna``: ``create_study(storage="sqlite:///...", sampler=RandomSampler())``,
  ``trial = study.ask()`` and ``study.tell(trial, value)``.
* ``optuna-wal`` (reference only): the same with the SQLite file in WAL mode and
  ``synchronous=NORMAL``, tunelab's settings, to separate fsync from library cost.

Two ways to give the space, each measured for both libraries:

* ``define-by-run``: the values are asked for inside the loop (``hp.Float(...)`` /
  ``trial.suggest_float(...)``), the usual Optuna style;
* ``declared``: the space is given up front (``hyperparameters=hp`` /
  ``study.ask(fixed_distributions)``) and the loop reads ``trial.hyperparameters.values`` /
  ``trial.params``.

Each measurement runs in a fresh process after a 5-trial warm-up; the median over
``--repeats`` runs is reported. Run::

    python benchmarks/ask_tell.py [--sizes 1000,5000] [--repeats 3] [--modes define-by-run,declared]

Results: a table on stdout and ``benchmarks/results/ask_tell.json``.
"""

from __future__ import annotations

import argparse
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
from overhead import optuna_storage  # noqa: E402

LIBRARIES = ("tunelab", "optuna", "optuna-wal")
LABELS = {"tunelab": "tunelab", "optuna": "Optuna", "optuna-wal": "Optuna (WAL)"}
MODES = ("define-by-run", "declared")
WARMUP_TRIALS = 5
FLAT_TOLERANCE = 1.25  # "flat": per-trial time at the largest size within 25% of the smallest


def run_tunelab(directory: str, n: int, stamps: Stamps, mode: str) -> tuple[float, int]:
    import tunelab as kt

    declared = None
    if mode == "declared":
        declared = kt.HyperParameters()
        declared.Float("x", *X_RANGE)
        declared.Float("y", *Y_RANGE)
        declared.Int("z", *Z_RANGE)
    stamps.start()
    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("loss", "min"),
        max_trials=n,
        seed=0,
        hyperparameters=declared,
        directory=directory,
        project_name="bench",
    )
    while not stamps.over_budget():
        trial = oracle.ask()
        if trial is None:
            break
        stamps.hit()
        hp = trial.hyperparameters
        if declared is None:
            value = quadratic(
                hp.Float("x", *X_RANGE), hp.Float("y", *Y_RANGE), hp.Int("z", *Z_RANGE)
            )
        else:
            values = hp.values
            value = quadratic(values["x"], values["y"], values["z"])
        oracle.tell(trial, value)
    t_end = time.perf_counter()
    return t_end, sum(t.status == "COMPLETED" for t in oracle.trials.values())


def run_optuna(
    directory: str, n: int, stamps: Stamps, mode: str, wal: bool = False
) -> tuple[float, int]:
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    declared = None
    if mode == "declared":
        declared = {
            "x": FloatDistribution(*X_RANGE),
            "y": FloatDistribution(*Y_RANGE),
            "z": IntDistribution(*Z_RANGE),
        }
    stamps.start()
    study = optuna.create_study(
        storage=optuna_storage(directory, wal),
        study_name="bench",
        direction="minimize",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    for _ in range(n):
        if stamps.over_budget():
            break
        trial = study.ask(declared)
        stamps.hit()
        if declared is None:
            value = quadratic(
                trial.suggest_float("x", *X_RANGE),
                trial.suggest_float("y", *Y_RANGE),
                trial.suggest_int("z", *Z_RANGE),
            )
        else:
            params = trial.params
            value = quadratic(params["x"], params["y"], params["z"])
        study.tell(trial, value)
    t_end = time.perf_counter()
    states = (optuna.trial.TrialState.COMPLETE,)
    return t_end, len(study.get_trials(deepcopy=False, states=states))


RUNNERS = {
    "tunelab": run_tunelab,
    "optuna": run_optuna,
    "optuna-wal": lambda d, n, s, m: run_optuna(d, n, s, m, wal=True),
}


def measure(library: str, n: int, budget_s: float, mode: str) -> dict[str, Any]:
    """Warm up with a few trials, then time `n` ask/tell round trips (fresh folders)."""
    runner = RUNNERS[library]
    root = tempfile.mkdtemp(prefix=f"tunelab-bench-{library}-")
    try:
        runner(f"{root}/warmup", WARMUP_TRIALS, Stamps(budget_s), mode)
        stamps = Stamps(budget_s)
        t_end, completed = runner(f"{root}/run", n, stamps, mode)
        return summarize_run(stamps, t_end, n, completed)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(
    results: dict[str, dict[str, dict[int, dict[str, Any]]]],
    sizes: list[int],
    libraries: list[str],
    modes: list[str],
) -> tuple[str, dict[str, Any]]:
    rows, ratios, flatness, verdict = [], {}, {}, {}
    small, large = min(sizes), max(sizes)
    for mode in modes:
        for n in sizes:
            cells = {lib: results[mode].get(lib, {}).get(n, {}) for lib in libraries}
            mine = cells["tunelab"].get("per_trial_ms")
            r = {
                f"tunelab/{lib}": ratio(mine, cells[lib].get("per_trial_ms"))
                for lib in libraries
                if lib != "tunelab"
            }
            ratios.setdefault(mode, {})[str(n)] = r
            rows.append(
                [
                    mode,
                    str(n),
                    *(
                        fmt(c.get("per_trial_ms"), ".3f") + ("*" if c.get("capped") else "")
                        for c in cells.values()
                    ),
                    fmt(r.get("tunelab/optuna"), ".4f"),
                ]
            )
        for lib in libraries:
            a = results[mode].get(lib, {}).get(small, {})
            b = results[mode].get(lib, {}).get(large, {})
            flatness.setdefault(mode, {})[lib] = {
                "per_trial": ratio(b.get("per_trial_ms"), a.get("per_trial_ms")),
                "loop_per_trial": ratio(b.get("loop_per_trial_ms"), a.get("loop_per_trial_ms")),
                "within_largest_run": ratio(b.get("last_tenth_ms"), b.get("first_tenth_ms")),
            }
    headers = [
        "space",
        "trials",
        *(f"{LABELS[lib]} ms/trial" for lib in libraries),
        "tunelab/Optuna",
    ]
    text = [table(headers, rows)]
    flat_rows = [
        [
            mode,
            LABELS[lib],
            fmt(f["per_trial"], ".2f"),
            fmt(f["loop_per_trial"], ".2f"),
            fmt(f["within_largest_run"], ".2f"),
        ]
        for mode, by_lib in flatness.items()
        for lib, f in by_lib.items()
    ]
    text.append(
        f"\nFlatness (1.00 = flat): per-trial time at {large} / at {small} trials, and "
        f"within the {large}-trial run, last tenth / first tenth"
    )
    text.append(
        table(
            ["space", "library", f"total {large}/{small}", f"loop {large}/{small}", "last/first"],
            flat_rows,
        )
    )
    vs_optuna = [
        r["tunelab/optuna"]
        for by_n in ratios.values()
        for r in by_n.values()
        if r.get("tunelab/optuna") is not None
    ]
    if vs_optuna:
        verdict["at_least_as_fast_as_optuna"] = max(vs_optuna) <= 1.0
    mine = [flatness[m]["tunelab"] for m in modes]
    if all(f["loop_per_trial"] is not None for f in mine):
        verdict["flat"] = all(
            f["loop_per_trial"] <= FLAT_TOLERANCE
            and (f["within_largest_run"] or 0) <= FLAT_TOLERANCE
            for f in mine
        )
    text.append(
        "\nTargets for tunelab: "
        + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items())
    )
    return "\n".join(text), {"ratios": ratios, "flatness": flatness, "targets": verdict}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, "1000,5000", LIBRARIES)
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated, from " + ", ".join(MODES)
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON report path (default: benchmarks/results/ask_tell.json)",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    libraries = [lib for lib in args.libraries.split(",") if lib]
    modes = [m for m in args.modes.split(",") if m]
    if set(libraries) - set(LIBRARIES) or "tunelab" not in libraries:
        parser.error(f"--libraries={args.libraries!r}: expected tunelab plus any of {LIBRARIES}")
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes={args.modes!r}: expected any of {MODES}")
    if args.repeats < 1 or min(sizes) < 20:
        parser.error("--repeats must be >= 1 and every size >= 20")

    runs = {m: {lib: {n: [] for n in sizes} for lib in libraries} for m in modes}
    missing: set[str] = set()
    for repeat in range(args.repeats):
        for mode in modes:
            for n in sizes:
                for lib in libraries:  # interleaved: machine noise hits every library alike
                    if lib in missing:
                        continue
                    result = run_worker(
                        __file__,
                        [lib, str(n), str(args.budget), mode],
                        timeout_s=2 * args.budget + 300,
                    )
                    runs[mode][lib][n].append(result)
                    shown = result.get("error") or (
                        f"{result['per_trial_ms']:.3f} ms/trial"
                        f" ({result['completed_trials']} trials)"
                    )
                    print(
                        f"[{repeat + 1}/{args.repeats}] {mode:<13} {lib:<10} N={n:<6} {shown}",
                        file=sys.stderr,
                        flush=True,
                    )
                    if str(result.get("error", "")).startswith("not installed"):
                        missing.add(lib)

    results = {
        m: {lib: {n: aggregate(r) for n, r in by_n.items()} for lib, by_n in by_lib.items()}
        for m, by_lib in runs.items()
    }
    text, summary = report(results, sizes, libraries, modes)
    print(
        f"Ask/tell round trip per trial on SQLite, random search, median of {args.repeats} "
        "run(s) (ms = total wall time / trials)\n"
    )
    print(text)
    path = write_report(
        "ask_tell",
        {
            "sizes": sizes,
            "repeats": args.repeats,
            "budget_s": args.budget,
            "modes": modes,
            "warmup_trials": WARMUP_TRIALS,
            "metric": "per_trial_ms = total wall time / trials",
            "results": {
                m: {lib: {str(n): s for n, s in by_n.items()} for lib, by_n in by_lib.items()}
                for m, by_lib in results.items()
            },
            **summary,
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
