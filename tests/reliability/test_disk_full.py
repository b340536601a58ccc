"""Disk full: while a backend saves a trial's checkpoint (that trial FAILED with a clear
message, the search goes on), and while the store itself writes (the search stops with one
clear StoreError, nothing stored is lost, and the same search resumes later)."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import tunelab as kt
from tunelab import plugins
from tunelab.backend import Backend
from tunelab.hookspecs import hookimpl
from tunelab.store import STORE_FILENAME

from . import proof


class TinyModel:
    """A 'model' whose checkpoint does not fit on the disk when `too_big`."""

    def __init__(self, weight: float, too_big: bool) -> None:
        self.weight, self.too_big = weight, too_big


class FullDiskBackend(Backend):
    """Saves models as JSON; a too-big model fills the disk halfway through its file."""

    name = "full_disk_test"
    model_filename = "model.json"

    def owns(self, model: Any) -> bool:
        return isinstance(model, TinyModel)

    def run_trial(self, tuner, trial, model, *args, **kwargs):
        tuner.save_model(trial.trial_id, model)
        return {"loss": model.weight}

    def save_model(self, model: TinyModel, path: Path) -> None:
        with open(path, "w") as handle:
            handle.write('{"weight": ')  # a partial file, as a full disk leaves it
            if model.too_big:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            handle.write(f"{model.weight}}}")

    def load_model(self, path: Path) -> TinyModel:
        return TinyModel(json.loads(path.read_text())["weight"], False)


class _Plugin:
    @hookimpl
    def tunelab_backend_for(self, model):
        return FullDiskBackend() if isinstance(model, TinyModel) else None


@pytest.fixture
def full_disk_backend():
    plugin = _Plugin()
    plugins.register(plugin, name="full-disk-test")
    yield
    plugins.plugin_manager().unregister(plugin)


def test_disk_full_while_saving_a_checkpoint_fails_that_trial_only(tmp_path, full_disk_backend):
    def build(hp):
        x = hp.Int("x", 0, 5)
        return TinyModel(weight=float(x), too_big=x in (0, 3))

    tuner = kt.GridSearch(
        build,
        objective="loss",
        directory=tmp_path,
        project_name="ckpt",
        max_consecutive_failed_trials=None,
    )
    tuner.search(verbose=0)
    trials = {t.hyperparameters.values["x"]: t for t in tuner.oracle.trials.values()}
    for x in (0, 3):
        assert trials[x].status == "FAILED"
        assert "No space left on device" in trials[x].message
        assert "in save_model" in trials[x].message  # the traceback says where
    assert [trials[x].status for x in (1, 2, 4, 5)] == ["COMPLETED"] * 4
    # The best models load, and none is the failed trial's partial file.
    assert [m.weight for m in tuner.get_best_models(3)] == [1.0, 2.0, 4.0]
    with sqlite3.connect(tmp_path / "ckpt" / STORE_FILENAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    proof.add("faults_injected", 2)


STORE_FULL = textwrap.dedent("""
    import resource, signal, sys
    import tunelab as kt

    def fn(hp):
        hp.Choice("label", ["a" * 300 + str(i) for i in range(20)])
        return hp.Float("x", 0.0, 1.0)

    tuner = kt.RandomSearch(fn, objective="loss", max_trials=40, seed=5, directory=sys.argv[1],
                            project_name="full")
    if len(sys.argv) > 2:  # files may not grow past this: writes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = int(sys.argv[2])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    tuner.search(verbose=0)
    print("done", len(tuner.oracle.trials))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_disk_full_while_the_store_writes_stops_cleanly_and_resumes(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(STORE_FULL)
    full = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(300_000)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert full.returncode == 1
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith("tunelab.store.StoreError: could not write the trial store ")
    assert "every trial stored before is intact" in last
    assert "sqlite3.OperationalError" in full.stderr  # the cause is chained, not hidden
    path = tmp_path / "full" / STORE_FILENAME
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = conn.execute(
            "SELECT trial_id, hp_values, score FROM trials WHERE status='COMPLETED'"
        ).fetchall()
    assert 0 < len(kept) < 40  # some trials were stored before the disk filled
    again = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == ["done", "40"]
    with sqlite3.connect(path) as conn:
        after = conn.execute(
            "SELECT trial_id, hp_values, score FROM trials WHERE status='COMPLETED'"
        ).fetchall()
    assert len(after) == 40 and set(kept) <= set(after)
    proof.add("trials_lost", len(set(kept) - set(after)))
    proof.add("trials_checked", len(kept))
    proof.add("faults_injected")
