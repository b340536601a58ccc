"""A Dask cluster that loses every worker in the middle of a search: the driver says so
within seconds instead of waiting silently for ever, stops after `worker_timeout` with
its unfinished trials released, and the search resumed on a cluster with workers again
finishes them."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import tunelab as kt
from tunelab.executors import DaskExecutor

distributed = pytest.importorskip("distributed")


def _slow(hp):
    time.sleep(1.0)
    return hp.Float("x", 0.0, 1.0)


@pytest.mark.slow
def test_losing_every_worker_is_said_then_stops_and_resumes(tmp_path, caplog):
    cluster = distributed.LocalCluster(
        n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None,
        silence_logs=logging.ERROR,
    )  # fmt: skip
    client = distributed.Client(cluster)
    try:

        def tuner():
            return kt.RandomSearch(
                _slow, objective="loss", max_trials=4, seed=0, directory=tmp_path,
                project_name="p",
            )  # fmt: skip

        def lose_workers():
            time.sleep(1.5)  # the first trial is running on the only worker
            cluster.scale(0)

        threading.Thread(target=lose_workers, daemon=True).start()
        started = time.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="tunelab"),
            pytest.raises(RuntimeError, match=r"no worker for \d+ s \(worker_timeout=1\)"),
        ):
            tuner().search(executor=DaskExecutor(client, worker_timeout=1), verbose=0)
        assert time.monotonic() - started < 40
        assert "has no worker left; 1 trial(s) wait for one" in caplog.text
        stopped = tuner()
        statuses = [t.status for t in stopped.oracle.trials.values()]
        assert "RUNNING" not in statuses and statuses.count("COMPLETED") <= 2

        cluster.scale(1)
        client.wait_for_workers(1, timeout=60)
        resumed = tuner()
        resumed.search(executor=client, verbose=0)
        assert [t.status for t in resumed.oracle.trials.values()] == ["COMPLETED"] * 4
    finally:
        client.close()
        cluster.close()
