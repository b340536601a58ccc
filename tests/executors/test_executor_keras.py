"""Keras trials in worker processes: a process pool and a Dask LocalCluster of 2 workers."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("keras")
pytest.importorskip("tunelab_keras")

from keras_models import WhereAmI, make_data  # noqa: E402

import tunelab as kt  # noqa: E402
from tunelab.executors import ProcessPoolExecutor  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _search(tmp_path, executor, max_trials=4):
    x, y = make_data()
    tuner = kt.RandomSearch(
        WhereAmI(),
        objective="val_accuracy",
        max_trials=max_trials,
        seed=2,
        directory=tmp_path,
        project_name="keras",
        overwrite=True,
    )
    tuner.search(x, y, epochs=1, batch_size=16, validation_split=0.25, executor=executor, verbose=0)
    return tuner, x, y


def _check_trained_in_workers_and_best_model_loads(tuner, x, y, max_trials=4):
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * max_trials
    pids = {t.metrics.get_last_value("pid") for t in trials}
    assert len(pids) == 2 and float(os.getpid()) not in pids
    # The best model was saved by its worker and loads in the driver with its score.
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    _, accuracy = model.evaluate(x[48:], y[48:], verbose=0)
    assert accuracy == pytest.approx(best.score, abs=1e-6)
    return trials


@pytest.mark.slow
def test_keras_trials_run_in_a_pool_of_two_workers_one_gpu_each(tmp_path, monkeypatch):
    # Two simulated GPUs (without a GPU, TensorFlow trains on the CPU): the pool starts one
    # worker per GPU, and each worker's TensorFlow sees only its own.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    executor = ProcessPoolExecutor()
    tuner, x, y = _search(tmp_path, executor)
    assert executor.max_parallel_trials == 2
    trials = _check_trained_in_workers_and_best_model_loads(tuner, x, y)
    gpu_of_pid: dict[float, set[float]] = {}
    for trial in trials:
        pid = trial.metrics.get_last_value("pid")
        gpu_of_pid.setdefault(pid, set()).add(trial.metrics.get_last_value("gpu"))
    assert all(len(gpus) == 1 for gpus in gpu_of_pid.values())
    assert set().union(*gpu_of_pid.values()) == {0.0, 1.0}


@pytest.mark.slow
def test_keras_trials_run_on_a_dask_cluster_of_two_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=True,
    )
    try:
        with distributed.Client(cluster) as client:
            tuner, x, y = _search(tmp_path, client)
    finally:
        cluster.close()
    _check_trained_in_workers_and_best_model_loads(tuner, x, y)


@pytest.mark.slow
def test_asha_stops_keras_trials_in_pool_workers_after_an_epoch(tmp_path):
    x, y = make_data()
    oracle = kt.ASHAOracle(
        kt.Objective("val_loss", "min"), max_epochs=5, factor=3, max_trials=6, seed=0
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=WhereAmI(), directory=tmp_path, project_name="a")
    executor = ProcessPoolExecutor(2, gpus=None)
    tuner.search(x, y, epochs=5, batch_size=16, validation_split=0.25, executor=executor, verbose=0)
    trials = list(oracle.trials.values())
    epochs = {t.trial_id: len(t.metrics.get_history("val_loss")) for t in trials}
    stopped = [t.trial_id for t in trials if t.status == "STOPPED"]
    assert stopped and all(epochs[t] < 5 for t in stopped)
    assert all(epochs[t.trial_id] == 5 for t in trials if t.status == "COMPLETED")
    assert tuner.get_best_models(1)[0].count_params() > 0
