"""GPU assignment: one GPU per worker process (with fake device lists: no GPU here)."""

from __future__ import annotations

import os

import pytest
from executor_objectives import gpu_reporter

import tunelab as kt
from tunelab.executors import ProcessPoolExecutor, visible_gpus, worker_environments

SMI = (
    "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-8f6c)\n"
    "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-1a2b)\n"
    "GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-3c4d)\n"
)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("0,1,2,3", ["0", "1", "2", "3"]),
        (" 2, 5 ", ["2", "5"]),
        ("1,-1,2", ["1"]),  # CUDA ignores ids after an invalid one
        ("-1", []),
        ("", []),
        ("GPU-8f6c,GPU-1a2b", ["GPU-8f6c", "GPU-1a2b"]),
    ],
)
def test_cuda_visible_devices_decides(setting, expected):
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": setting}, list_gpus=lambda: SMI) == expected


def test_nvidia_smi_listing_when_the_variable_is_unset():
    assert visible_gpus({}, list_gpus=lambda: SMI) == ["0", "1", "2"]
    assert visible_gpus({}, list_gpus=lambda: None) == []


def test_one_gpu_per_worker_in_turn():
    assert worker_environments(["0", "1", "2"], 2) == [
        {"CUDA_VISIBLE_DEVICES": "0"},
        {"CUDA_VISIBLE_DEVICES": "1"},
    ]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in worker_environments(["4", "7"], 5)] == [
        "4",
        "7",
        "4",
        "7",
        "4",
    ]
    assert worker_environments([], 3) == [{}, {}, {}]


def test_each_worker_sees_only_its_own_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    executor = ProcessPoolExecutor()  # gpus="auto": one worker per visible GPU
    tuner = kt.RandomSearch(
        gpu_reporter,
        objective="loss",
        max_trials=6,
        seed=0,
        directory=tmp_path,
        project_name="gpu",
        overwrite=True,
    )
    tuner.search(executor=executor, verbose=0)
    assert executor.max_parallel_trials == 2
    gpu_of_pid: dict[float, set[float]] = {}
    for trial in tuner.oracle.trials.values():
        assert trial.status == "COMPLETED"
        pid = trial.metrics.get_last_value("pid")
        gpu_of_pid.setdefault(pid, set()).add(trial.metrics.get_last_value("gpu"))
    assert all(len(gpus) == 1 for gpus in gpu_of_pid.values())
    assert set().union(*gpu_of_pid.values()) == {3.0, 5.0}
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3,5"  # the driver's own is left alone
