"""tunelab against KerasTuner on the same Keras search: time outside ``model.fit``, peak
memory and disk.

Both libraries run the same 10 trials of a small MLP on scikit-learn's bundled digits data
(1,797 images of 8x8 pixels, 10 classes), 2 epochs each, with random search and the same
seed, on Keras 3 with the TensorFlow backend. Each library runs in a fresh process. Inside a
process, the hypermodel's ``fit`` is timed; the time a trial spends outside it (building the
model, asking the oracle, saving checkpoints and state, printing) is the library's overhead:

    overhead per trial = (search wall time - time inside fit) / trials

Also reported: the process's peak RSS and the project folder's size on disk.

Run: ``nice uv run --frozen --group bench python benchmarks/keras_overhead.py``. Prints a table
and writes benchmarks/results/keras_overhead.json. Target: tunelab's overhead at least 3x
lower than KerasTuner's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "keras_overhead.json"
TRIALS = 10
EPOCHS = 2


def worker(library: str) -> dict:
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from sklearn.datasets import load_digits

    if library == "tunelab":
        import tunelab as kt
    else:
        import keras_tuner as kt

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    inside_fit: list[float] = []

    class MLP(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    keras.Input((64,)),
                    keras.layers.Dense(hp.Int("units", 16, 128, step=16), activation="relu"),
                    keras.layers.Dense(10, activation="softmax"),
                ]
            )
            model.compile(
                optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 3e-3, 1e-3])),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, *args, **kwargs):
            start = time.perf_counter()
            try:
                return model.fit(*args, **kwargs)
            finally:
                inside_fit.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as directory:
        tuner = kt.RandomSearch(
            MLP(),
            objective="val_accuracy",
            max_trials=TRIALS,
            seed=1,
            directory=directory,
            project_name="digits",
            overwrite=True,
        )
        start = time.perf_counter()
        tuner.search(x, y, epochs=EPOCHS, validation_split=0.2, batch_size=64, verbose=0)
        wall = time.perf_counter() - start
        disk = sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())
        best = tuner.get_best_models(1)[0]
        accuracy = float(best.evaluate(x[-360:], y[-360:], verbose=0)[1])
    trials = len(inside_fit)
    return {
        "library": library,
        "trials": trials,
        "wall_s": round(wall, 2),
        "inside_fit_s": round(sum(inside_fit), 2),
        "overhead_per_trial_s": round((wall - sum(inside_fit)) / trials, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "disk_bytes": disk,
        "best_model_val_accuracy": round(accuracy, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=("tunelab", "keras_tuner"))
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker)))
        return
    rows = []
    for library in ("tunelab", "keras_tuner"):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", library],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{library} worker failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"{'library':<12} {'trials':>6} {'wall s':>8} {'in fit s':>9} "
        f"{'overhead/trial s':>17} {'peak RSS MB':>12} {'disk KB':>8}"
    )
    for r in rows:
        print(
            f"{r['library']:<12} {r['trials']:>6} {r['wall_s']:>8} {r['inside_fit_s']:>9} "
            f"{r['overhead_per_trial_s']:>17} {r['peak_rss_mb']:>12} "
            f"{r['disk_bytes'] // 1024:>8}"
        )
    ratio = rows[1]["overhead_per_trial_s"] / rows[0]["overhead_per_trial_s"]
    print(f"KerasTuner's overhead per trial / tunelab's: {ratio:.2f}x (target >= 3x)")
    from importlib.metadata import version

    report = {
        "benchmark": "keras_overhead",
        "rows": rows,
        "overhead_ratio": round(ratio, 2),
        "versions": {p: version(p) for p in ("keras", "keras-tuner", "tensorflow-cpu")},
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared; load varies)",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
