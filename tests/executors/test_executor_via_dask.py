"""The Dask executor on a real LocalCluster of 2 worker processes."""

from __future__ import annotations

import os
import time

import pytest
from executor_objectives import (
    Payload,
    asha_tuner,
    assert_asha_stopped_trials_early,
    dies_once,
    quadratic,
    with_payload,
)

import tunelab as kt
from tunelab.executors import DaskExecutor

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # Each worker offers one "GPU" resource, as a worker started with --resources GPU=1.
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        resources={"GPU": 1},
        silence_logs=True,
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def _tuner(tmp_path, objective, max_trials=6, **kwargs):
    return kt.RandomSearch(
        objective,
        objective="loss",
        max_trials=max_trials,
        seed=5,
        directory=tmp_path,
        project_name="p",
        overwrite=True,
        **kwargs,
    )


def _metric(trial, name):
    return trial.metrics.get_last_value(name)


def test_trials_run_as_tasks_on_both_workers(tmp_path, client):
    tuner = _tuner(tmp_path, quadratic)
    tuner.search(delay=0.3, executor=client, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 6
    worker_pids = set(client.run(os.getpid).values())
    assert {_metric(t, "pid") for t in trials} == worker_pids
    for trial in trials:
        assert trial.score == pytest.approx((trial.hyperparameters.get("x") - 0.5) ** 2)


def test_same_configurations_as_inline(tmp_path, client):
    inline = _tuner(tmp_path / "a", quadratic)
    inline.search(verbose=0)
    remote = _tuner(tmp_path / "b", quadratic, executor=DaskExecutor(client))
    remote.search(verbose=0)
    assert [t.hyperparameters.values for t in remote.oracle.trials.values()] == [
        t.hyperparameters.values for t in inline.oracle.trials.values()
    ]


def test_bayesian_on_two_dask_workers_is_reproducible(tmp_path, client):
    runs = []
    for name in ("a", "b"):
        tuner = kt.BayesianOptimization(
            quadratic,
            objective="loss",
            max_trials=5,
            num_initial_points=2,
            seed=5,
            directory=tmp_path / name,
            project_name="p",
        )
        tuner.search(delay=0.05, executor=DaskExecutor(client), verbose=0)
        runs.append([t.hyperparameters.get("x") for t in tuner.oracle.trials.values()])
    assert len(runs[0]) == 5
    # Trials 2-4 were chosen by the model, with the trial before each still pending.
    assert runs[0] == runs[1]


def test_data_is_scattered_to_each_worker_once(tmp_path, client):
    tuner = _tuner(tmp_path, with_payload, max_trials=8)
    tuner.search(Payload(50_000), executor=DaskExecutor(client), verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 8
    # Each worker process unpickled the search data once, not once per trial.
    assert {_metric(t, "loads") for t in trials} == {1.0}


def test_gpu_resources_limit_one_trial_per_worker(tmp_path, client):
    executor = DaskExecutor(client, resources={"GPU": 1})
    tuner = _tuner(tmp_path, quadratic, max_trials=4)
    tuner.search(delay=0.3, executor=executor, verbose=0)
    assert executor.max_parallel_trials == 2
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 4
    with pytest.raises(RuntimeError, match=r"no worker with resources \{'TPU': 1\}"):
        _tuner(tmp_path / "x", quadratic).search(
            executor=DaskExecutor(client, resources={"TPU": 1}), verbose=0
        )


def test_a_killed_worker_reruns_its_trial_and_the_search_ends_with_max_trials(tmp_path, client):
    tuner = _tuner(tmp_path, dies_once)
    tuner.search(str(tmp_path), executor=client, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 6
    killed = int((tmp_path / "killed").read_text())
    assert killed not in {_metric(t, "pid") for t in trials}
    # The nanny restarts the killed worker: the cluster is back to 2 workers.
    deadline = time.time() + 30
    while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.2)
    assert len(client.scheduler_info()["workers"]) == 2


def test_asha_stops_trials_running_on_dask_workers(tmp_path, client):
    tuner = asha_tuner(tmp_path)
    executor = DaskExecutor(client)
    tuner.search(executor=executor, verbose=0)
    assert executor.max_parallel_trials == 2
    assert_asha_stopped_trials_early(tuner)


def test_bad_dask_arguments_are_named(client):
    with pytest.raises(TypeError, match="client=42"):
        DaskExecutor(42)
    with pytest.raises(ValueError, match="resources=.GPU.; expected a dict"):
        DaskExecutor(client, resources="GPU")
    with pytest.raises(ValueError, match="max_parallel_trials=-1"):
        DaskExecutor(client, max_parallel_trials=-1)
