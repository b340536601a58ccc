"""Driver throughput: trials per second of a tunelab search against the plain executor.

Many short trials (20 ms of ``time.sleep`` each) leave the executor's slots idle whenever the
driver (ask, bookkeeping, store write, submit, wait, tell) is slower than the trials. Two
pairs are measured side by side in one run, each pair in one fresh worker process:

* **Dask**: one ``LocalCluster`` (``--dask-workers`` processes x ``--dask-threads``
  threads = S slots). (a) ``kt.RandomSearch(...).search(executor=client,
  max_parallel_trials=S)``; (b) plain Dask: ``client.submit`` + ``as_completed`` keeping S
  of the same tasks in flight. Both use the same, warm cluster.
* **Process pool**: (a) ``search(executor="process", max_parallel_trials=K)``; (b)
  ``concurrent.futures.ProcessPoolExecutor(K)`` with K of the same tasks in flight, started
  the same way as tunelab's pool (fork when tunelab's pool forks). Both include starting
  their K processes in the time, as a user would see it.

The two of a pair alternate (a, b, b, a, ...) over ``--repeats`` runs and the median is
reported. Throughput is completed trials / wall time of the whole call (end to end), and
"steady" is the rate between the 10th and the 90th percentile of completions (start-up and
the draining tail left out). The extra driver time per trial is ``1/a - 1/b``; the driver
process's CPU time per trial (all its threads: in a LocalCluster the scheduler runs in the
driver's process too) is reported as well. Target (issue 17): a / b >= 0.90.

The issue's sizes are 4 processes x 16 threads and 2,000 trials; on a small machine use
smaller ones (say 2 x 8 and ``--trials 600``): the output says which were used.
``--profile`` adds one more tunelab search per executor under cProfile (not timed, not in
the ratios) and prints where the driver's main thread spends its time, in ms per trial (the
JSON also keeps pstats' text, with the callers of the costliest functions).

Before / after a change to the core, side by side in one run: unpack the old code
(``git archive COMMIT packages | tar -x -C /tmp/before``) and add
``--tunelab-src /tmp/before``: each pair then runs once with the installed tunelab and once
with that one, and the table has a row for each; compare their ratios to plain, never their
trials per second. On a busy 2-core machine a single 200-trial run can swing a ratio by 0.5:
use 1,000 trials or more and ``--repeats 3``.

Run::

    uv run --frozen python benchmarks/driver_throughput.py --dask-workers 2 --dask-threads 8 \\
        --pool-workers 4 --trials 600 [--repeats 3] [--profile] [--out results/x.json]

Results: a table on stdout and ``benchmarks/results/driver_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
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
    fmt,
    run_worker,
    table,
    worker_main,
    write_report,
)

TARGET_RATIO = 0.90
SECTIONS = ("dask", "pool")


# -- the task, the same for both sides ------------------------------------------------------
# Defined here (not imported from harness) so that Dask workers, which cannot import the
# benchmarks folder, receive it by value with the rest of this script's functions.
def _bowl(x: float, y: float, z: int) -> float:
    return (x - 1.0) ** 2 + (y + 2.0) ** 2 + (z - 3) ** 2


def plain_task(seconds: float, x: float, y: float, z: int) -> float:
    """One trial of the plain executors: the 20 ms sleep, then the objective."""
    time.sleep(seconds)
    return _bowl(x, y, z)


def make_objective(seconds: float) -> Any:
    """The tunelab objective: draws the same three values, sleeps, returns the objective."""

    def objective(hp: Any) -> float:
        x = hp.Float("x", *X_RANGE)
        y = hp.Float("y", *Y_RANGE)
        z = hp.Int("z", *Z_RANGE)
        time.sleep(seconds)
        return _bowl(x, y, z)

    return objective


def draws(n: int, seed: int = 0) -> list[tuple[float, float, int]]:
    """The values the plain side sends: drawn in the driver, as an oracle would draw them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [
        (float(rng.uniform(*X_RANGE)), float(rng.uniform(*Y_RANGE)), int(rng.integers(0, 101)))
        for _ in range(n)
    ]


# -- timing -----------------------------------------------------------------------------------
class Clock:
    """Wall time, the driver process's CPU time and this thread's CPU time of one run, and
    the time of each completion (for the steady rate)."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def __enter__(self) -> Clock:
        self.wall0, self.cpu0, self.thread0 = (
            time.perf_counter(),
            time.process_time(),
            time.thread_time(),
        )
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0
        self.thread = time.thread_time() - self.thread0

    def done(self) -> None:
        self.ends.append(time.perf_counter())

    def summary(self, completed: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "completed": completed,
            "seconds": self.wall,
            "trials_per_s": completed / self.wall if self.wall > 0 else None,
            "driver_cpu_ms_per_trial": 1e3 * self.cpu / max(completed, 1),
            "main_thread_cpu_ms_per_trial": 1e3 * self.thread / max(completed, 1),
            "loadavg_after": os.getloadavg()[0],
        }
        ends = sorted(self.ends)
        if len(ends) >= 20:
            lo, hi = len(ends) // 10, len(ends) - 1 - len(ends) // 10
            out["steady_trials_per_s"] = (hi - lo) / (ends[hi] - ends[lo])
        return out


def _search(directory: str, n: int, seconds: float, executor: Any, slots: int, clock: Clock) -> int:
    """One tunelab random search of `n` trials on `executor`; returns the completed ones."""
    import tunelab as kt

    class StampedSearch(kt.RandomSearch):
        # The driver calls on_trial_end once per told trial: that is the completion time.
        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            clock.done()

    tuner = StampedSearch(
        make_objective(seconds),
        objective=kt.Objective("loss", "min"),
        max_trials=n,
        seed=0,
        directory=directory,
        project_name="bench",
        overwrite=True,
    )
    tuner.search(executor=executor, max_parallel_trials=slots, verbose=0)
    return sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def tunelab_run(n: int, seconds: float, executor: Any, slots: int) -> dict[str, Any]:
    # The project (the SQLite store) lives in a fresh temporary directory per run.
    directory = tempfile.mkdtemp(prefix="tunelab-driver-")
    clock = Clock()
    load = os.getloadavg()[0]
    try:
        with clock:
            completed = _search(directory, n, seconds, executor, slots, clock)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {"loadavg_before": load, **clock.summary(completed)}


def dask_plain_run(client: Any, n: int, seconds: float, slots: int) -> dict[str, Any]:
    """Plain Dask: `slots` tasks in flight, one more submitted as each one completes."""
    from distributed import as_completed

    values = draws(n)
    clock = Clock()
    load = os.getloadavg()[0]
    completed = 0
    with clock:
        first = [client.submit(plain_task, seconds, *v, pure=False) for v in values[:slots]]
        submitted = len(first)
        flow = as_completed(first)
        for future in flow:
            future.result()
            completed += 1
            clock.done()
            if submitted < n:
                flow.add(client.submit(plain_task, seconds, *values[submitted], pure=False))
                submitted += 1
    return {"loadavg_before": load, **clock.summary(completed)}


def pool_plain_run(n: int, seconds: float, slots: int, method: str) -> dict[str, Any]:
    """A concurrent.futures process pool (started inside the timing, as tunelab's is) with
    `slots` tasks in flight."""
    import concurrent.futures as cf
    import multiprocessing

    values = draws(n)
    clock = Clock()
    load = os.getloadavg()[0]
    completed = 0
    context = multiprocessing.get_context(method)
    # The pool's start and shutdown are inside the timing, as tunelab's are.
    with clock, cf.ProcessPoolExecutor(slots, mp_context=context) as pool:
        pending = {pool.submit(plain_task, seconds, *v) for v in values[:slots]}
        submitted = len(pending)
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                future.result()
                completed += 1
                clock.done()
                if submitted < n:
                    pending.add(pool.submit(plain_task, seconds, *values[submitted]))
                    submitted += 1
    return {"loadavg_before": load, **clock.summary(completed)}


def _import_tunelab() -> None:
    import tunelab  # noqa: F401


# -- one section in a worker process -----------------------------------------------------------
def measure(section: str, n: int, budget: float, config_json: str) -> dict[str, Any]:
    config = json.loads(config_json)
    seconds, repeats = config["task_s"], config["repeats"]
    import tunelab  # imported before timing, on both sides alike

    runs: dict[str, list[dict[str, Any]]] = {"tunelab": [], "plain": []}
    out: dict[str, Any] = {"section": section, "trials": n, "task_s": seconds}
    out["tunelab_file"] = tunelab.__file__
    if section == "dask":
        from distributed import Client, LocalCluster

        workers, threads = config["dask_workers"], config["dask_threads"]
        slots = workers * threads
        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
        try:
            # A warm cluster: tunelab loaded on the workers, connections open.
            client.run(_import_tunelab)
            client.gather(
                [client.submit(plain_task, seconds, 0.0, 0.0, 0, pure=False) for _ in range(slots)]
            )
            out["cluster_start_s"] = time.perf_counter() - started
            for i in range(repeats):
                order = ("plain", "tunelab") if i % 2 == 0 else ("tunelab", "plain")
                for side in order:
                    if side == "plain":
                        runs[side].append(dask_plain_run(client, n, seconds, slots))
                    else:
                        runs[side].append(tunelab_run(n, seconds, client, slots))
                    print(f"  dask {side}: {runs[side][-1]['trials_per_s']:.1f}/s", file=sys.stderr)
            if config.get("profile"):
                out["profile"] = profile_run(n, seconds, client, slots, config["profile_top"])
        finally:
            client.close()
            cluster.close()
        out.update(workers=workers, threads_per_worker=threads, slots=slots)
    else:
        from tunelab.executors.process import _start_method

        slots = config["pool_workers"]
        for i in range(repeats):
            order = ("plain", "tunelab") if i % 2 == 0 else ("tunelab", "plain")
            for side in order:
                # Asked each time: tunelab forks only while this process runs one thread.
                method = _start_method("auto", [])
                if side == "plain":
                    runs[side].append(pool_plain_run(n, seconds, slots, method))
                else:
                    runs[side].append(tunelab_run(n, seconds, "process", slots))
                runs[side][-1]["start_method"] = method
                print(f"  pool {side}: {runs[side][-1]['trials_per_s']:.1f}/s", file=sys.stderr)
        if config.get("profile"):
            out["profile"] = profile_run(n, seconds, "process", slots, config["profile_top"])
        out.update(slots=slots)
    out["runs"] = runs
    out["summary"] = summarize(runs)
    return out


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    keys = (
        "trials_per_s",
        "steady_trials_per_s",
        "driver_cpu_ms_per_trial",
        "main_thread_cpu_ms_per_trial",
        "seconds",
    )
    med = {
        side: {k: statistics.median(r[k] for r in rows if k in r) for k in keys}
        for side, rows in runs.items()
    }
    a, b = med["tunelab"], med["plain"]
    # Ratios per repeat (a run and its neighbour in the alternation), then their median.
    pairs = list(zip(runs["tunelab"], runs["plain"], strict=True))
    return {
        **med,
        "ratio": statistics.median(t["trials_per_s"] / p["trials_per_s"] for t, p in pairs),
        "steady_ratio": statistics.median(
            t["steady_trials_per_s"] / p["steady_trials_per_s"]
            for t, p in pairs
            if "steady_trials_per_s" in t and "steady_trials_per_s" in p
        ),
        "extra_driver_ms_per_trial": 1e3 / a["trials_per_s"] - 1e3 / b["trials_per_s"],
    }


def profile_run(n: int, seconds: float, executor: Any, slots: int, top: int) -> dict[str, Any]:
    """One tunelab search on `executor` under cProfile (the main thread: tunelab's loop; a
    Dask client's event-loop thread is not seen). Returns the top functions in ms per trial
    and the callers of the costliest ones."""
    import cProfile
    import io
    import pstats

    directory = tempfile.mkdtemp(prefix="tunelab-driver-profile-")
    clock = Clock()
    profiler = cProfile.Profile()
    try:
        with clock:
            profiler.enable()
            completed = _search(directory, n, seconds, executor, slots, clock)
            profiler.disable()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_cc, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(path)}:{line}({name})",
                "calls_per_trial": calls / completed,
                "self_ms_per_trial": 1e3 * tottime / completed,
                "cumulative_ms_per_trial": 1e3 * cumtime / completed,
            }
        )
    text = io.StringIO()
    printer = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
    printer.print_stats(60)
    printer.print_callers(r"urandom|execute|get_best_trials|get_config|dumps|\(result\)")
    return {
        "executor": "Dask" if not isinstance(executor, str) else f"a {executor} pool",
        "completed": completed,
        "seconds_under_profiler": clock.wall,
        "trials_per_s_under_profiler": completed / clock.wall,
        "main_thread_cpu_ms_per_trial": 1e3 * clock.thread / completed,
        "by_cumulative": sorted(rows, key=lambda r: -r["cumulative_ms_per_trial"])[:top],
        "by_self": sorted(rows, key=lambda r: -r["self_ms_per_trial"])[:top],
        "pstats_text": text.getvalue(),
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


# -- report -----------------------------------------------------------------------------------
def render(report: dict[str, Any]) -> str:
    sizes = report["sizes"]
    lines = [
        f"Driver throughput: {report['trials']} trials of {1e3 * report['task_s']:.0f} ms "
        f"(time.sleep), random search, median of {report['repeats']} alternating run(s); "
        f"machine: {report['cores']} cores, load {report['loadavg_at_start']:.1f} at start",
        f"Dask: LocalCluster {sizes['dask_workers']} processes x {sizes['dask_threads']} threads "
        f"= {sizes['dask_workers'] * sizes['dask_threads']} slots; process pool: "
        f"{sizes['pool_workers']} processes"
        + ("" if report["issue_sizes"] else " (smaller than the issue's 4 x 16, 2,000 trials)"),
        "tunelab and its peer run side by side in one worker process per pair: only their "
        "ratio means anything on a shared machine.",
        "",
    ]
    headers = [
        "executor",
        "slots",
        "tunelab /s",
        "plain /s",
        "ratio",
        "steady ratio",
        "extra ms/trial",
        "driver CPU ms/trial (tl | plain)",
        "target",
    ]
    rows = []
    for name, result in report["results"].items():
        if "error" in result:
            rows.append([name, "-", "-", "-", "-", "-", "-", result["error"][:60], "-"])
            continue
        s = result["summary"]
        tl, pl = s["tunelab"], s["plain"]
        met = "met" if s["ratio"] >= TARGET_RATIO else "not met"
        rows.append(
            [
                name.replace("dask", "Dask").replace("pool", "process pool"),
                str(result["slots"]),
                fmt(tl["trials_per_s"], ".1f"),
                fmt(pl["trials_per_s"], ".1f"),
                fmt(s["ratio"], ".3f"),
                fmt(s["steady_ratio"], ".3f"),
                fmt(s["extra_driver_ms_per_trial"], ".2f"),
                f"{tl['driver_cpu_ms_per_trial']:.2f} | {pl['driver_cpu_ms_per_trial']:.2f}",
                f">= {TARGET_RATIO:.2f} {met}",
            ]
        )
    lines.append(table(headers, rows))
    ideal = {
        result["section"]: result["slots"] / report["task_s"]
        for result in report["results"].values()
        if "slots" in result
    }
    lines.append(
        "ideal (slots / task time): "
        + ", ".join(f"{k} {v:.0f}/s" for k, v in ideal.items())
        + "; ratio = tunelab / plain trials per second, end to end; steady: 10th-90th "
        "percentile of completions; extra ms/trial = 1000/tunelab - 1000/plain"
    )
    for name, result in report["results"].items():
        profile = result.get("profile")
        if profile:
            lines += ["", f"[{name}] " + render_profile(profile)]
    return "\n".join(lines)


def render_profile(profile: dict[str, Any]) -> str:
    lines = [
        f"Profile of one tunelab search on {profile['executor']} (cProfile, driver main "
        "thread; "
        f"{profile['completed']} trials at {profile['trials_per_s_under_profiler']:.1f}/s "
        f"under the profiler, main-thread CPU {profile['main_thread_cpu_ms_per_trial']:.2f} "
        "ms/trial)",
    ]
    for key, title in (("by_cumulative", "cumulative"), ("by_self", "self")):
        rows = [
            [
                r["function"][:90],
                f"{r['calls_per_trial']:.1f}",
                f"{r['self_ms_per_trial']:.3f}",
                f"{r['cumulative_ms_per_trial']:.3f}",
            ]
            for r in profile[key]
        ]
        lines += [
            "",
            f"top by {title} time (ms per trial)",
            table(["function", "calls/trial", "self ms", "cumulative ms"], rows),
        ]
    return "\n".join(lines)


def tunelab_source(path: str) -> str:
    """The folder to put on PYTHONPATH for the tunelab checkout at `path`."""
    root = Path(path).resolve()
    for candidate in (root / "packages" / "core" / "src", root):
        if (candidate / "tunelab" / "__init__.py").is_file():
            return str(candidate)
    raise argparse.ArgumentTypeError(
        f"--tunelab-src={path!r}: no tunelab package in it or in its packages/core/src"
    )


def source_label(src: str) -> str:
    """A short name for a tunelab source folder: the checkout's folder name."""
    path = Path(src)
    return path.parents[2].name if path.name == "src" and path.parent.name == "core" else path.name


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=2000, help="trials per run (%(default)s)")
    parser.add_argument("--task-ms", type=float, default=20.0, help="trial length (%(default)s)")
    parser.add_argument("--dask-workers", type=int, default=4, help="(%(default)s)")
    parser.add_argument("--dask-threads", type=int, default=16, help="per worker (%(default)s)")
    parser.add_argument("--pool-workers", type=int, default=16, help="(%(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (%(default)s)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="dask, pool or both")
    parser.add_argument(
        "--profile", action="store_true", help="also profile one search per executor"
    )
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds per section")
    parser.add_argument(
        "--tunelab-src",
        action="append",
        default=[],
        type=tunelab_source,
        help="also measure the tunelab core of this checkout (its root, or a folder that "
        "holds the tunelab package), right after the installed one; repeatable. E.g. the "
        "code before a refactor: git archive COMMIT packages | tar -x -C /tmp/before",
    )
    parser.add_argument("--note", default="", help="a word on the run, kept in the JSON")
    parser.add_argument("--out", type=Path, default=None, help="JSON report path")
    args = parser.parse_args(argv)
    for name in ("trials", "dask_workers", "dask_threads", "pool_workers", "repeats"):
        value = getattr(args, name)
        if value < 1:
            parser.error(f"--{name.replace('_', '-')}={value}; expected an int >= 1")
    if not (args.task_ms > 0 and math.isfinite(args.task_ms)):
        parser.error(f"--task-ms={args.task_ms}; expected a number of milliseconds > 0")
    sections = [s for s in args.sections.split(",") if s]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"--sections={args.sections!r}: {unknown} unknown; expected {SECTIONS}")
    config = {
        "task_s": args.task_ms / 1e3,
        "repeats": args.repeats,
        "dask_workers": args.dask_workers,
        "dask_threads": args.dask_threads,
        "pool_workers": args.pool_workers,
        "profile": args.profile,
        "profile_top": args.profile_top,
    }
    sizes = {k: config[k] for k in ("dask_workers", "dask_threads", "pool_workers")}
    report: dict[str, Any] = {
        "trials": args.trials,
        "task_s": config["task_s"],
        "repeats": args.repeats,
        "sizes": sizes,
        "issue_sizes": (args.dask_workers, args.dask_threads, args.trials) == (4, 16, 2000),
        "cores": os.cpu_count(),
        "loadavg_at_start": os.getloadavg()[0],
        "note": args.note,
        "results": {},
    }
    sources = [(None, "installed")] + [(src, source_label(src)) for src in args.tunelab_src]
    if args.tunelab_src:
        report["sources"] = {label: src for src, label in sources}
    saved = os.environ.get("PYTHONPATH")
    try:
        for section in sections:
            for src, label in sources:
                key = section if not args.tunelab_src else f"{section} [{label}]"
                print(f"{key}: {args.trials} trials x {args.repeats} runs per side...", flush=True)
                # The worker (and its pool or Dask processes) imports tunelab from `src`.
                if src is not None:
                    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, saved]))
                elif saved is None:
                    os.environ.pop("PYTHONPATH", None)
                else:
                    os.environ["PYTHONPATH"] = saved
                report["results"][key] = run_worker(
                    __file__,
                    [section, str(args.trials), str(args.budget), json.dumps(config)],
                    timeout_s=args.budget,
                )
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    report["loadavg_at_end"] = os.getloadavg()[0]
    text = render(report)
    print(text)
    path = write_report("driver_throughput", report, args.out)
    path.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    print(f"\nWritten {path} and {path.with_suffix('.txt').name}")
    return report


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(measure, sys.argv[2:])
    else:
        main()
