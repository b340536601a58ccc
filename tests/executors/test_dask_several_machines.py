"""A cluster as on several machines: a `dask scheduler` and two `dask worker` processes
started from their own folders, a driver script elsewhere connecting by address. One
worker sees the driver's file system (as on a shared one), the other does not (its own
mount namespace hides the driver's folder, as another host's disk would). Every model
reaches the driver's `directory`, and `get_best_models` loads each of them there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("tunelab_sklearn")

BIN = Path(sys.executable).parent

DRIVER = textwrap.dedent(
    """
    import json, os, socket, sys, time
    from distributed import Client
    from sklearn import datasets, ensemble
    import tunelab as kt

    def build(hp):
        return ensemble.GradientBoostingClassifier(
            n_estimators=hp.Int("n_estimators", 5, 20), max_depth=hp.Int("max_depth", 1, 3),
            random_state=0,
        )

    class WritesFiles(kt.RandomSearch):
        # KerasTuner-style: run_trial saves what it wants in the trial's folder.
        def run_trial(self, trial, *args, **kwargs):
            time.sleep(0.3)
            folder = self.get_trial_dir(trial.trial_id)
            (folder / "sub").mkdir(parents=True, exist_ok=True)
            (folder / "sub" / "who.txt").write_text(f"{os.getpid()} {os.getcwd()}")
            return trial.hyperparameters.Float("x", 0, 1)

    X, y = datasets.load_iris(return_X_y=True)
    client = Client(scheduler_file=sys.argv[1])
    files = WritesFiles(objective="loss", max_trials=8, seed=0, directory="runs",
                        project_name="files", hypermodel=None)
    files.search(executor=client, verbose=0)
    models = kt.RandomSearch(build, objective="score", max_trials=4, seed=0, cv=3,
                             directory="runs", project_name="p")
    models.search(X, y, executor=client, verbose=0)
    best = models.get_best_models(1)[0]
    print(json.dumps({
        "statuses": [t.status for t in files.oracle.trials.values()]
        + [t.status for t in models.oracle.trials.values()],
        "best_score": best.score(X, y),
    }))
    """
)


def _start(command, cwd, namespace_hides=None):
    if namespace_hides is not None:
        # Its own mount namespace, with an empty file system over the driver's folder.
        prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
        command = [
            *prefix, "sh", "-c", f"mount -t tmpfs none {namespace_hides} && exec \"$@\"",
            "sh", *command,
        ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_models_reach_the_driver_with_and_without_a_shared_file_system(tmp_path):
    folders = {name: tmp_path / name for name in ("scheduler", "shared", "remote", "driver")}
    for folder in folders.values():
        folder.mkdir()
    address_file = tmp_path / "scheduler.json"
    dask = str(BIN / "dask")
    worker_args = ["worker", "--scheduler-file", str(address_file), "--nthreads", "1"]
    worker_args += ["--no-dashboard", "--memory-limit", "0"]
    processes = [
        _start([dask, "scheduler", "--scheduler-file", str(address_file), "--port", "0",
                "--no-dashboard"], folders["scheduler"]),
    ]  # fmt: skip
    try:
        deadline = time.time() + 60
        while not address_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        processes.append(_start([dask, *worker_args], folders["shared"]))
        processes.append(
            _start([dask, *worker_args], folders["remote"], namespace_hides=folders["driver"])
        )
        from distributed import Client

        with Client(scheduler_file=str(address_file)) as client:
            client.wait_for_workers(2, timeout=60)
        result = subprocess.run(
            [sys.executable, "-c", DRIVER, str(address_file)],
            cwd=folders["driver"], capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    assert report["statuses"] == ["COMPLETED"] * 12
    assert report["best_score"] > 0.9
    project = folders["driver"] / "runs"
    written = [p.read_text().split() for p in sorted(project.glob("files/trial_*/sub/who.txt"))]
    assert len(written) == 8
    # Both workers ran trials, each in its own working directory; the remote one (that
    # cannot see the driver's folder) sent its files back with its results.
    assert {cwd for _, cwd in written} == {str(folders["shared"]), str(folders["remote"])}
    assert len(list(project.glob("p/trial_*/model.skops"))) >= 1
    # Nothing was left under a worker's own working directory.
    assert not [p for p in folders["shared"].rglob("*") if "runs" in p.parts]
    assert not [p for p in folders["remote"].rglob("*") if "runs" in p.parts]
