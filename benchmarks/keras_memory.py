"""Memory of a long Keras search: RSS growth over 30 trials of a small model.

Each trial builds, trains (2 epochs on 200 samples) and saves a small MLP. The process's
resident set size (RSS, from /proc/self/status) is sampled after each trial. The growth
reported is the RSS after the last trial minus the RSS after the first (the first trial pays
for TensorFlow's one-time setup: graphs, thread pools, kernels), so it measures what each
further trial keeps.

Modes (``--mode``):

- ``tunelab``: `kt.RandomSearch` in this process; the backend clears the Keras session after
  every trial.
- ``process``: the same search with ``trial_isolation="process"``: each trial trains in a
  child process, and the RSS is the driver's.
- ``keras``: the reference: a plain loop of build, fit, ``keras.backend.clear_session()``,
  without tunelab, to tell what TensorFlow itself keeps per fitted model.

Run: ``nice uv run --frozen python benchmarks/keras_memory.py --mode tunelab [--trials 30]``.
Prints a table and merges the mode's numbers into benchmarks/results/keras_memory.json.
Target: growth under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tunelab as kt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "keras_memory.json"
TARGET_MB = 150.0


def rss_mb() -> float:
    """This process's resident set size in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def build(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(hp.Int("units", 8, 64, step=8), activation="relu"),
            keras.layers.Dense(hp.Int("units2", 4, 32, step=4), activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class MemoryTuner(kt.RandomSearch):
    """Samples RSS after each trial."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.samples: list[tuple[float, float]] = []
        self.start = time.perf_counter()

    def on_trial_end(self, trial):
        self.samples.append((time.perf_counter() - self.start, rss_mb()))


def keras_loop(trials: int, x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
    """The reference: the same models fitted in a plain loop, without tunelab's tuner."""
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=trials, seed=0)
    start, samples = time.perf_counter(), []
    while (trial := oracle.ask()) is not None:
        model = build(trial.hyperparameters)
        history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
        oracle.tell(trial, {"val_accuracy": max(history.history["val_accuracy"])})
        del model, history
        keras.backend.clear_session()
        samples.append((time.perf_counter() - start, rss_mb()))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--mode", choices=("tunelab", "process", "keras"), default="tunelab")
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype("float32")
    y = ((x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)).astype("int64")
    before = rss_mb()
    disk = 0
    if options.mode == "keras":
        samples = keras_loop(options.trials, x, y)
    else:
        extra = {"trial_isolation": "process"} if options.mode == "process" else {}
        with tempfile.TemporaryDirectory() as directory:
            tuner = MemoryTuner(
                build,
                objective="val_accuracy",
                max_trials=options.trials,
                seed=0,
                directory=directory,
                project_name="memory",
                **extra,
            )
            tuner.search(x, y, epochs=2, validation_split=0.2, verbose=0)
            disk = sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())
        samples = tuner.samples
    growth = samples[-1][1] - samples[0][1]
    print(f"{'trial':>5}  {'seconds':>8}  {'RSS MB':>8}")
    for index, (seconds, rss) in enumerate(samples, 1):
        if index in (1, 2, 5) or index % 5 == 0:
            print(f"{index:>5}  {seconds:>8.1f}  {rss:>8.1f}")
    print(f"mode: {options.mode}; RSS before the search: {before:.1f} MB")
    print(
        f"RSS growth from trial 1 to trial {len(samples)}: {growth:.1f} MB "
        f"(target < {TARGET_MB:.0f} MB: {'met' if growth < TARGET_MB else 'NOT met'})"
    )
    report = {
        "mode": options.mode,
        "trials": len(samples),
        "rss_before_search_mb": round(before, 1),
        "rss_after_first_trial_mb": round(samples[0][1], 1),
        "rss_after_last_trial_mb": round(samples[-1][1], 1),
        "growth_mb": round(growth, 1),
        "target_mb": TARGET_MB,
        "met": growth < TARGET_MB,
        "per_trial_rss_mb": [round(r, 1) for _, r in samples],
        "seconds": round(samples[-1][0], 1),
        "project_disk_bytes": disk,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "modes" not in results:  # a new file (or one from an older version of this script)
        results = {"benchmark": "keras_memory", "target_mb": TARGET_MB, "modes": {}}
    results["modes"][options.mode] = report
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
