"""Many parallel slots with a define-by-run space: the trials handed out before the space is
known all look alike ({}), which must not read as an exhausted space. A search with 64
slots runs its max_trials trials of a continuous space."""

from __future__ import annotations

import time

import pytest

import tunelab as kt

distributed = pytest.importorskip("distributed")


def _sleepy(hp):
    x = hp.Float("x", 0.0, 1.0)  # defined only when the trial runs
    time.sleep(0.05)
    return x


def test_64_slots_run_every_trial_of_a_define_by_run_space(tmp_path):
    cluster = distributed.LocalCluster(
        n_workers=1,
        processes=False,
        threads_per_worker=64,
        dashboard_address=None,
        silence_logs=True,
    )
    try:
        with distributed.Client(cluster) as client:
            tuner = kt.RandomSearch(
                _sleepy, objective="loss", max_trials=96, directory=tmp_path, project_name="p"
            )
            tuner.search(executor=client, max_parallel_trials=64, verbose=0)
    finally:
        cluster.close()
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 96 and {t.status for t in trials} == {"COMPLETED"}
    assert len({t.hyperparameters.values["x"] for t in trials}) == 96
