"""The scikit-learn backend on a full disk: a checkpoint that cannot be written fails its
trial (no partial model file left behind) and the search goes on; a refit at the end of a
SklearnTuner search that cannot be saved stops with the OS error, every trial kept."""

from __future__ import annotations

import errno
import os
import sqlite3

import numpy as np
import pytest

import tunelab as kt
from tunelab.store import STORE_FILENAME

from . import proof

skops_io = pytest.importorskip("skops.io")
linear_model = pytest.importorskip("sklearn.linear_model")
tunelab_sklearn = pytest.importorskip("tunelab_sklearn")

FULL_ALPHA = 10.0  # the model whose file does not fit on the disk


@pytest.fixture
def full_disk(monkeypatch):
    """skops writes half a file for the FULL_ALPHA model, then the disk is full."""
    real_dump = skops_io.dump

    def dump(estimator, file, *args, **kwargs):
        if getattr(estimator, "alpha", None) == FULL_ALPHA:
            with open(file, "wb") as handle:
                handle.write(b"PK\x03\x04 half a zip")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_dump(estimator, file, *args, **kwargs)

    monkeypatch.setattr(skops_io, "dump", dump)


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, X @ np.array([1.0, 2.0, -1.0]) + 0.01 * rng.normal(size=60)


def _build(hp):
    alphas = [100.0, FULL_ALPHA, 1.0, 0.1]  # each one better: each is saved as the new best
    return linear_model.Ridge(alpha=hp.Choice("alpha", alphas, ordered=False))


def _store_ok(folder):
    with sqlite3.connect(folder / STORE_FILENAME) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_checkpoint_that_does_not_fit_fails_its_trial_and_the_search_goes_on(tmp_path, full_disk):
    tuner = kt.GridSearch(
        _build,
        objective=kt.Objective("score", "max"),
        cv=3,
        directory=tmp_path,
        project_name="sk",
        max_consecutive_failed_trials=None,
    )
    tuner.search(*_data(), verbose=0)
    trials = {t.hyperparameters.values["alpha"]: t for t in tuner.oracle.trials.values()}
    failed = trials[FULL_ALPHA]
    assert failed.status == "FAILED"
    assert (
        failed.message.strip()
        .splitlines()[-1]
        .startswith("OSError: [Errno 28] No space left on device")
    )
    assert [trials[a].status for a in (100.0, 1.0, 0.1)] == ["COMPLETED"] * 3
    # The half-written file was removed; the best model loads.
    assert list((tmp_path / "sk").glob("trial_*/.*.tmp")) == []
    assert not (tmp_path / "sk" / f"trial_{failed.trial_id}" / "model.skops").exists()
    assert tuner.get_best_models(1)[0].alpha == 0.1
    assert _store_ok(tmp_path / "sk")
    proof.add("faults_injected")


def test_a_final_refit_that_does_not_fit_stops_with_the_os_error_and_keeps_the_trials(
    tmp_path, full_disk
):
    oracle = kt.oracles.GridSearchOracle(objective=kt.Objective("score", "max"))

    def build(hp):  # the best configuration is the one that cannot be saved
        return linear_model.Ridge(alpha=hp.Choice("alpha", [100.0, FULL_ALPHA], ordered=False))

    tuner = tunelab_sklearn.SklearnTuner(
        oracle, build, cv=3, directory=tmp_path, project_name="refit"
    )
    with pytest.raises(OSError, match=r"\[Errno 28\] No space left on device"):
        tuner.search(*_data(), verbose=0)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses == ["COMPLETED", "COMPLETED"]
    assert list((tmp_path / "refit").glob("trial_*/*.skops")) == []
    assert list((tmp_path / "refit").glob("trial_*/.*.tmp")) == []
    assert _store_ok(tmp_path / "refit")
    proof.add("faults_injected")
