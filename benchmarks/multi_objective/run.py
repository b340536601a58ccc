"""Multi-objective benchmark: hypervolume after 50 and 100 trials, tunelab against Optuna.

Methods: tunelab's ParEGOOracle, NSGA2Oracle and random search (a Pareto search), Optuna's
NSGAIISampler, multi-objective TPESampler and GPSampler, each through its own ask/tell
API, on the problems of problems.py, one seed at a time. Every (problem, method, seed,
budget) run is cached as JSON under cache/ as soon as it ends, so an interrupted run
resumes where it stopped. Every method runs once per budget (ParEGO sizes its initial
design from `max_trials`; the others are simply run again), the smaller budget first for
every problem and seed, so that a run cut short has the 50-trial table complete.

    cd benchmarks/multi_objective
    nice -n 19 uv run --frozen python run.py --seeds 0-9            # all problems, methods
    uv run --frozen python run.py --report   # -> ../results/multi_objective.{md,json}, fronts

The time per suggestion is the mean wall time of the library's ask (tunelab `ask`,
Optuna `study.ask` plus the parameter suggestions), the evaluation left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from problems import PROBLEMS, Problem

from tunelab.pareto import hypervolume, pareto_front_mask

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
RESULTS = HERE.parent / "results"
METHODS = (
    "tunelab_parego",
    "tunelab_nsga2",
    "tunelab_random",
    "optuna_nsga2",
    "optuna_tpe",
    "optuna_gp",
)


def _tunelab(method: str, problem: Problem, seed: int, budget: int) -> dict[str, Any]:
    import tunelab as kt

    hp = kt.HyperParameters()
    for p in problem.params:
        if p.kind == "int":
            hp.Int(p.name, int(p.low), int(p.high), sampling="log" if p.log else "linear")
        else:
            hp.Float(p.name, p.low, p.high, sampling="log" if p.log else "linear")
    objective = [kt.Objective(name, "min") for name in problem.objectives]
    kind = {
        "tunelab_parego": kt.oracles.ParEGOOracle,
        "tunelab_nsga2": kt.oracles.NSGA2Oracle,
        "tunelab_random": kt.oracles.RandomSearchOracle,
    }[method]
    values, ask_seconds = [], []
    with tempfile.TemporaryDirectory() as directory:
        oracle = kind(
            objective=objective,
            max_trials=budget,
            seed=seed,
            hyperparameters=hp,
            pareto=True,
            directory=directory,
            project_name="bench",
        )
        while True:
            start = time.perf_counter()
            trial = oracle.ask()
            ask_seconds.append(time.perf_counter() - start)
            if trial is None:
                break
            f = problem.evaluate(dict(trial.hyperparameters.values))
            values.append(f)
            oracle.tell(trial, dict(zip(problem.objectives, f, strict=True)))
        oracle.store.close()
    return {"values": values, "ask_seconds": ask_seconds[:-1]}


def _optuna(method: str, problem: Problem, seed: int, budget: int) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if method == "optuna_gp":
        import torch

        torch.set_num_threads(1)  # the machine is shared; the GP is small anyway
        sampler: Any = optuna.samplers.GPSampler(seed=seed)
    elif method == "optuna_tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    study = optuna.create_study(directions=["minimize"] * len(problem.objectives), sampler=sampler)
    values, ask_seconds = [], []
    for _ in range(budget):
        start = time.perf_counter()
        trial = study.ask()
        chosen = {}
        for p in problem.params:
            if p.kind == "int":
                chosen[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                chosen[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        ask_seconds.append(time.perf_counter() - start)
        f = problem.evaluate(chosen)
        values.append(f)
        study.tell(trial, f)
    return {"values": values, "ask_seconds": ask_seconds}


def run_one(method: str, problem: Problem, seed: int, budget: int) -> dict[str, Any]:
    runner = _tunelab if method.startswith("tunelab") else _optuna
    return runner(method, problem, seed, budget)


def _cache_file(problem: str, method: str, seed: int, budget: int) -> Path:
    return CACHE / f"{problem}__{method}__s{seed}__b{budget}.json"


def run(problems: list[str], methods: list[str], seeds: list[int], budgets: list[int]) -> None:
    CACHE.mkdir(exist_ok=True)
    for budget in sorted(budgets):
        for seed in seeds:
            for name in problems:
                problem = PROBLEMS[name]()
                for method in methods:
                    path = _cache_file(name, method, seed, budget)
                    if path.exists():
                        continue
                    start = time.perf_counter()
                    out = run_one(method, problem, seed, budget)
                    out["wall_seconds"] = time.perf_counter() - start
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(json.dumps(out))
                    tmp.replace(path)
                    print(
                        f"{name:11s} {method:15s} seed {seed} budget {budget}: "
                        f"{out['wall_seconds']:.1f} s",
                        flush=True,
                    )


def _load(problem: str, method: str, seed: int, budget: int, budgets: list[int]) -> Any:
    path = _cache_file(problem, method, seed, budget)
    return json.loads(path.read_text()) if path.exists() else None


def report(problems: list[str], methods: list[str], seeds: list[int], budgets: list[int]) -> None:
    table: dict[str, Any] = {}
    lines = [
        "# Multi-objective benchmark: hypervolume (median [25%, 75%] over seeds; higher is better)",
        "",
    ]
    for name in problems:
        problem = PROBLEMS[name]()
        table[name] = {}
        for budget in budgets:
            for method in methods:
                hvs, asks = [], []
                for seed in seeds:
                    out = _load(name, method, seed, budget, budgets)
                    if out is None:
                        continue
                    points = np.array(out["values"][:budget])
                    hvs.append(hypervolume(points, problem.reference))
                    asks.extend(out["ask_seconds"][:budget])
                if not hvs:
                    continue
                entry = table[name].setdefault(method, {})
                entry[str(budget)] = {
                    "seeds": len(hvs),
                    "median": statistics.median(hvs),
                    "q25": float(np.percentile(hvs, 25)),
                    "q75": float(np.percentile(hvs, 75)),
                    "hypervolumes": hvs,
                    "ask_ms": 1000 * statistics.fmean(asks) if asks else None,
                }
    wins = {}
    for budget in budgets:
        lines += [
            f"## {budget} trials",
            "",
            "| problem | " + " | ".join(methods) + " | best |",
            "|---" * (len(methods) + 2) + "|",
        ]
        for name in problems:
            cells, medians = [], {}
            for method in methods:
                e = table[name].get(method, {}).get(str(budget))
                if e is None:
                    cells.append("—")
                    continue
                medians[method] = e["median"]
                cells.append(f"{e['median']:.4g} [{e['q25']:.4g}, {e['q75']:.4g}] (n={e['seeds']})")
            best = max(medians, key=medians.get) if medians else "—"
            wins.setdefault(budget, {})[name] = best
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {best} |")
        lines.append("")
    lines += [
        f"## Time per suggestion (ms, mean over all suggestions of the {max(budgets)}-trial runs)",
        "",
        "| problem | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for name in problems:
        cells = []
        for method in methods:
            e = table[name].get(method, {}).get(str(max(budgets)))
            cells.append("—" if e is None or e["ask_ms"] is None else f"{e['ask_ms']:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    small = min(budgets)
    tunelab_best = sum(1 for w in wins.get(small, {}).values() if w.startswith("tunelab"))
    lines += [
        "",
        f"Target: a tunelab method has the best median hypervolume at {small} trials on at "
        f"least 3 of 4 problems — {tunelab_best} of {len(problems)}: "
        + ("met" if tunelab_best >= 3 else "not met"),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "multi_objective.md").write_text(text)
    (RESULTS / "multi_objective.json").write_text(
        json.dumps(
            {"seeds": seeds, "budgets": budgets, "table": table, "command": " ".join(sys.argv)},
            indent=1,
        )
    )
    _plot_fronts(problems, methods, seeds, max(budgets), budgets)


def _plot_fronts(
    problems: list[str], methods: list[str], seeds: list[int], budget: int, budgets: list[int]
) -> None:
    """The front each method found with the first seed, per problem (first two objectives)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(problems), figsize=(4.5 * len(problems), 4))
    for ax, name in zip(np.atleast_1d(axes), problems, strict=True):
        problem = PROBLEMS[name]()
        for method in methods:
            out = _load(name, method, seeds[0], budget, budgets)
            if out is None:
                continue
            points = np.array(out["values"][:budget])
            front = points[pareto_front_mask(points)]
            front = front[np.argsort(front[:, 0])]
            ax.step(front[:, 0], front[:, 1], where="post", label=method, marker=".")
        ax.set_title(f"{name}, seed {seeds[0]}, {budget} trials")
        ax.set_xlabel(problem.objectives[0])
        ax.set_ylabel(problem.objectives[1])
        ax.set_ylim(top=min(ax.get_ylim()[1], problem.reference[1]))
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "multi_objective_fronts.png", dpi=90)


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--budgets", default="50,100")
    parser.add_argument("--report", action="store_true", help="only write the report")
    args = parser.parse_args()
    problems, methods = args.problems.split(","), args.methods.split(",")
    for name in problems:
        if name not in PROBLEMS:
            parser.error(f"--problems: unknown problem {name!r}; expected some of {list(PROBLEMS)}")
    for method in methods:
        if method not in METHODS:
            parser.error(f"--methods: unknown method {method!r}; expected some of {METHODS}")
    seeds, budgets = _seeds(args.seeds), [int(b) for b in args.budgets.split(",")]
    if not args.report:
        run(problems, methods, seeds, budgets)
    report(problems, methods, seeds, budgets)


if __name__ == "__main__":
    main()
