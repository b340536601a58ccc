"""What the speed benchmarks share: the trivial objective, worker processes, statistics,
tables and the JSON report.

Every measurement runs in a fresh Python process (a *worker*) so that one library's imports,
caches and garbage never slow down another's, and the parent only gathers the numbers. A
worker prints one JSON line on stdout; the parent reads the last line.

Timing is per trial, from timestamps taken each time the objective is called: the interval
between two calls is the library's whole overhead for one trial (ask, bookkeeping, store
write, tell), because the objective itself returns at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# The search space of the trivial objective: two floats and an int, the same for every
# library, so each draws the same number of values per trial.
X_RANGE = (-5.0, 5.0)
Y_RANGE = (-5.0, 5.0)
Z_RANGE = (0, 100)

PACKAGES = ("tunelab", "optuna", "sqlalchemy", "keras-tuner", "keras", "jax", "numpy", "scipy")


def quadratic(x: float, y: float, z: int) -> float:
    """The trivial objective: a bowl with its minimum at (1, -2, 3); returns at once."""
    return (x - 1.0) ** 2 + (y + 2.0) ** 2 + (z - 3) ** 2


class Stamps:
    """Timestamps of the objective's calls, with a time budget.

    Parameters
    ----------
    budget_s : float
        Seconds after `start()` past which `over_budget()` is true; the caller then stops its
        library's loop cleanly and the trials completed so far are reported.

    Examples
    --------
    >>> stamps = Stamps(budget_s=60.0)
    >>> stamps.start()
    >>> stamps.hit()
    >>> len(stamps.times)
    1
    """

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.times: list[float] = []
        self.t0 = 0.0

    def start(self) -> None:
        self.times.clear()
        self.t0 = time.perf_counter()

    def hit(self) -> None:
        self.times.append(time.perf_counter())

    def over_budget(self) -> bool:
        return time.perf_counter() - self.t0 > self.budget_s


def summarize_run(stamps: Stamps, t_end: float, requested: int, completed: int) -> dict[str, Any]:
    """The numbers of one timed run.

    ``per_trial_ms`` is total wall time (construction, store creation and the loop) divided by
    the completed trials; ``loop_per_trial_ms`` leaves out the time before the first trial;
    ``first_tenth_ms`` and ``last_tenth_ms`` are the mean time per trial over the first and
    the last tenth of the run, which shows whether trials get slower as the store grows.
    """
    times = stamps.times
    total = t_end - stamps.t0
    out: dict[str, Any] = {
        "requested_trials": requested,
        "completed_trials": completed,
        "capped": completed < requested,
        "total_s": total,
        "setup_s": (times[0] - stamps.t0) if times else total,
        "per_trial_ms": 1e3 * total / max(completed, 1),
    }
    if len(times) >= 20:
        tenth = len(times) // 10
        out["loop_per_trial_ms"] = 1e3 * (times[-1] - times[0]) / (len(times) - 1)
        out["first_tenth_ms"] = 1e3 * (times[tenth] - times[0]) / tenth
        out["last_tenth_ms"] = 1e3 * (times[-1] - times[-1 - tenth]) / tenth
        # Medians of the per-trial intervals: a burst of load from another process on a
        # shared machine moves a mean a lot and a median hardly at all.
        gaps = [b - a for a, b in zip(times[:-1], times[1:], strict=True)]
        out["first_tenth_median_ms"] = 1e3 * statistics.median(gaps[:tenth])
        out["last_tenth_median_ms"] = 1e3 * statistics.median(gaps[-tenth:])
    return out


# -- worker processes ---------------------------------------------------------------------
def worker_env() -> dict[str, str]:
    """The environment of a worker: KerasTuner runs on Keras with the JAX backend unless the
    caller chose one (the oracle never touches the backend; JAX only avoids TensorFlow)."""
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "jax")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


def run_worker(script: str, args: Sequence[str], timeout_s: float) -> dict[str, Any]:
    """Run `script --worker ARGS` in a fresh interpreter and return its JSON result.

    A worker that fails or cannot import its library returns ``{"error": ...}`` instead of
    stopping the whole benchmark.
    """
    command = [sys.executable, script, "--worker", *args]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=worker_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"worker timed out after {timeout_s:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"error": f"worker exit {done.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def worker_main(measure: Callable[..., dict[str, Any]], argv: Sequence[str]) -> None:
    """Entry point of a worker: ``--worker LIBRARY N BUDGET_S [EXTRA]`` -> one JSON line."""
    library, n, budget = argv[0], int(argv[1]), float(argv[2])
    extra = argv[3:]
    try:
        result = measure(library, n, budget, *extra)
    except ImportError as error:
        result = {"error": f"not installed: {error}"}
    loaded = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
    result["frameworks_imported"] = loaded
    print(json.dumps(result))


# -- statistics and report ----------------------------------------------------------------
def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if key in r and "error" not in r]
    return statistics.median(values) if values else None


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each measure over the repeated runs of one measurement (runs that
    failed are left out); the raw runs are kept for re-rendering."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return {"error": runs[0].get("error") if runs else "no run", "runs": runs}
    keys = (
        "per_trial_ms",
        "loop_per_trial_ms",
        "first_tenth_ms",
        "last_tenth_ms",
        "first_tenth_median_ms",
        "last_tenth_median_ms",
        "setup_s",
        "total_s",
        "completed_trials",
    )
    out: dict[str, Any] = {k: median_of(good, k) for k in keys}
    out.update(capped=any(r["capped"] for r in good), repeats=len(good), runs=runs)
    return out


def add_run_arguments(parser: Any, sizes: str, libraries: Sequence[str]) -> None:
    """The options that the per-trial speed benchmarks (overhead, ask/tell) share."""
    parser.add_argument(
        "--sizes", default=sizes, help="comma-separated trial counts (default: %(default)s)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs per measurement; the median is reported (default: %(default)s)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        help="seconds one run may take before it stops early (default: %(default)s)",
    )
    parser.add_argument(
        "--libraries",
        default=",".join(libraries),
        help="comma-separated, from " + ", ".join(libraries),
    )


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def fmt(value: float | None, spec: str = ".3f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with right-aligned columns (the first one left-aligned)."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = (str(c) for c in cells)
        return "  ".join(
            [first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    found["sqlite"] = sqlite3.sqlite_version
    return found


def source() -> dict[str, Any]:
    """Which tunelab code was measured: the git commit, whether the core had uncommitted
    changes, and a digest of the core's sources (to tell two dirty trees apart)."""
    root = Path(__file__).resolve().parent.parent
    core = root / "packages" / "core" / "src"
    digest = hashlib.sha256()
    for path in sorted(core.rglob("*.py")):
        digest.update(path.relative_to(core).as_posix().encode())
        digest.update(path.read_bytes())
    out: dict[str, Any] = {"core_sources_sha256": digest.hexdigest()[:16]}
    git = ["git", "-C", str(root)]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out["commit"] = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "packages/core"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        out["core_uncommitted_changes"] = bool(changed.strip())
    return out


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [
                line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    memory_gib = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "keras_backend": worker_env()["KERAS_BACKEND"],
    }


def write_report(name: str, payload: dict[str, Any], out: Path | None = None) -> Path:
    """Write `payload` with machine and version info to ``results/<name>.json``."""
    path = out or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "versions": versions(),
        "tunelab_source": source(),
        **payload,
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path
