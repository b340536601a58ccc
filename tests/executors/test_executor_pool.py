"""The process pool executor: real worker processes running real trials."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from executor_objectives import (
    Payload,
    asha_tuner,
    assert_asha_stopped_trials_early,
    define_by_run,
    dies_once,
    epochs_objective,
    fatal,
    hangs_in_c,
    kills_on_negative,
    quadratic,
    raises,
    with_payload,
)

import tunelab as kt
from tunelab.executors import ProcessPoolExecutor, resolve_executor


def _metric(trial, name):
    return trial.metrics.get_last_value(name)


def _tuner(tmp_path, objective, cls=kt.RandomSearch, max_trials=6, **kwargs):
    return cls(
        objective,
        objective="loss",
        max_trials=max_trials,
        seed=3,
        directory=tmp_path,
        project_name="p",
        overwrite=True,
        **kwargs,
    )


def _by_status(tuner):
    counts: dict[str, int] = {}
    for trial in tuner.oracle.trials.values():
        counts[trial.status] = counts.get(trial.status, 0) + 1
    return counts


def test_pool_runs_trials_in_two_processes_at_once(tmp_path):
    tuner = _tuner(tmp_path, quadratic)
    tuner.search(delay=0.4, executor="process", max_parallel_trials=2, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 6
    pids = {_metric(t, "pid") for t in trials}
    assert len(pids) == 2 and os.getpid() not in pids
    # Two trials overlap in time: they ran in parallel.
    spans = sorted((_metric(t, "start"), _metric(t, "end")) for t in trials)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
    for trial in trials:
        assert trial.score == pytest.approx((trial.hyperparameters.get("x") - 0.5) ** 2)


def test_random_search_tries_the_same_configurations_as_inline(tmp_path):
    inline = _tuner(tmp_path / "a", quadratic)
    inline.search(verbose=0)
    pooled = _tuner(tmp_path / "b", quadratic, executor=ProcessPoolExecutor(2, start_method="fork"))
    pooled.search(verbose=0)
    values = [t.hyperparameters.values for t in inline.oracle.trials.values()]
    assert [t.hyperparameters.values for t in pooled.oracle.trials.values()] == values


def test_bayesian_with_two_workers_is_reproducible(tmp_path):
    runs = []
    for name in ("a", "b"):
        tuner = _tuner(
            tmp_path / name,
            quadratic,
            cls=kt.BayesianOptimization,
            max_trials=5,
            num_initial_points=2,
        )
        tuner.search(delay=0.05, executor="process", max_parallel_trials=2, verbose=0)
        runs.append(sorted(t.hyperparameters.get("x") for t in tuner.oracle.trials.values()))
    assert len(runs[0]) == 5
    assert runs[0] == runs[1]


def test_hyperband_runs_its_brackets_in_workers(tmp_path):
    runs = {}
    for name, executor in (
        ("inline", None),
        ("pool", ProcessPoolExecutor(2)),
        ("pool again", ProcessPoolExecutor(2)),
    ):
        tuner = kt.Hyperband(
            epochs_objective,
            objective="loss",
            max_epochs=9,
            seed=0,
            directory=tmp_path / name,
            project_name="hb",
            executor=executor,
        )
        tuner.search(verbose=0)
        trials = list(tuner.oracle.trials.values())
        assert {t.status for t in trials} == {"COMPLETED"}
        runs[name] = [
            (t.hyperparameters.get("tuner/epochs"), round(t.hyperparameters.get("x"), 12))
            for t in trials
        ]
    # The same brackets (23 trials: 9+3+1 on 1/3/9 epochs, 5+2, 3, as KerasTuner's); with workers, the next
    # bracket may start while a round waits, so trial numbers (and draws) differ from inline.
    assert sorted(e for e, _ in runs["pool"]) == sorted(e for e, _ in runs["inline"])
    assert len(runs["inline"]) == 23
    assert runs["pool"] == runs["pool again"]


def test_unordered_results_are_told_as_they_arrive(tmp_path):
    tuner = _tuner(tmp_path, quadratic, max_trials=6)
    tuner.search(executor=ProcessPoolExecutor(2, ordered=False), verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 6
    for trial in trials:
        assert trial.score == pytest.approx((trial.hyperparameters.get("x") - 0.5) ** 2)


def test_search_data_is_sent_to_each_worker_once(tmp_path):
    tuner = _tuner(tmp_path, with_payload, max_trials=8)
    tuner.search(Payload(50_000), executor="process", max_parallel_trials=2, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 8
    assert {_metric(t, "loads") for t in trials} == {1.0}


def test_define_by_run_hyperparameters_reach_the_driver_space(tmp_path):
    tuner = _tuner(tmp_path, define_by_run, max_trials=8)
    tuner.search(executor="process", max_parallel_trials=2, verbose=0)
    assert tuner.oracle.hyperparameters.space.names() == ["x", "extra", "shift"]
    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        assert trial.status == "COMPLETED"
        assert ("shift" in values) == values["extra"]
        expected = (values["x"] + values.get("shift", 0) - 0.5) ** 2
        assert trial.score == pytest.approx(expected)


def test_a_killed_worker_is_replaced_and_its_trial_runs_again(tmp_path):
    tuner = _tuner(tmp_path, dies_once)
    executor = ProcessPoolExecutor(2, start_method="spawn")
    tuner.search(str(tmp_path), executor=executor, verbose=0)
    assert _by_status(tuner) == {"COMPLETED": 6}
    killed_pid = int((tmp_path / "killed").read_text())
    pids = {_metric(t, "pid") for t in tuner.oracle.trials.values()}
    assert killed_pid not in pids
    assert len(pids) == 2


def test_a_trial_that_kills_its_worker_every_time_fails(tmp_path):
    tuner = _tuner(tmp_path, kills_on_negative, max_trials=5, max_consecutive_failed_trials=None)
    tuner.search(executor="process", max_parallel_trials=2, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 5
    for trial in trials:
        if trial.hyperparameters.get("x") < 0:
            assert trial.status == "FAILED"
            assert "died while running it (killed by SIGKILL)" in trial.message
        else:
            assert trial.status == "COMPLETED"
    assert {t.status for t in trials} == {"FAILED", "COMPLETED"}


def test_errors_in_workers_fail_or_invalidate_their_trials(tmp_path):
    tuner = _tuner(tmp_path, raises, max_trials=10, max_consecutive_failed_trials=None)
    tuner.search(executor="process", max_parallel_trials=2, verbose=0)
    seen = set()
    for trial in tuner.oracle.trials.values():
        x = trial.hyperparameters.get("x")
        expected = "FAILED" if x < 0 else "INVALID" if x > 1.5 else "COMPLETED"
        assert trial.status == expected
        seen.add(expected)
        if expected == "FAILED":
            assert "RuntimeError: negative x=" in trial.message
            assert "Traceback" in trial.message
    assert {"FAILED", "COMPLETED"} <= seen


def test_fatal_error_in_a_worker_stops_the_search(tmp_path):
    tuner = _tuner(tmp_path, fatal)
    with pytest.raises(kt.FatalError, match="out of disk"):
        tuner.search(executor="process", max_parallel_trials=2, verbose=0)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert "FAILED" in statuses and "RUNNING" not in statuses


def test_a_trial_deaf_to_the_timeout_has_its_worker_stopped(tmp_path):
    executor = ProcessPoolExecutor(2)
    executor.hard_timeout_grace = 0.5
    space = kt.HyperParameters()
    space.Float("x", -2.0, 2.0)  # known before the killed trials could register it
    tuner = _tuner(
        tmp_path,
        hangs_in_c,
        max_trials=4,
        trial_timeout=1.0,
        max_consecutive_failed_trials=None,
        hyperparameters=space,
    )
    tuner.search(executor=executor, verbose=0)
    for trial in tuner.oracle.trials.values():
        if trial.hyperparameters.get("x") < 0:
            assert trial.status == "FAILED"
            assert "ran longer than trial_timeout=1.0 s and did not stop" in trial.message
        else:
            assert trial.status == "COMPLETED"


def test_sklearn_estimators_in_workers_save_their_best_model(tmp_path):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=120, n_features=6, random_state=0)

    def build(hp):
        return LogisticRegression(C=hp.Float("C", 1e-3, 10.0, sampling="log"), max_iter=200)

    tuner = kt.RandomSearch(
        build,
        objective=kt.Objective("score", "max"),
        max_trials=4,
        seed=0,
        directory=tmp_path,
        project_name="sk",
        overwrite=True,
        cv=3,
    )
    tuner.search(x, y, executor="process", max_parallel_trials=2, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert len(tuner.oracle.trials) == 4 and 0.5 < best.score <= 1.0
    model = tuner.get_best_models(1)[0]
    assert best.hyperparameters.get("C") == pytest.approx(model.C)
    assert np.mean(model.predict(x) == y) > 0.5


def test_sklearn_tuner_with_an_executor_refits_the_best_in_the_driver(tmp_path):
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    x, y = make_classification(n_samples=120, n_features=6, random_state=1)

    def build(hp):
        return DecisionTreeClassifier(max_depth=hp.Int("max_depth", 1, 6), random_state=0)

    tuner = kt.SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=4, seed=0),
        build,
        cv=3,
        directory=tmp_path,
        project_name="skt",
        executor="process",
        max_parallel_trials=2,
    )
    tuner.search(x, y, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 4 and {t.status for t in trials} == {"COMPLETED"}
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    assert model.max_depth == best.hyperparameters.get("max_depth")


@pytest.mark.parametrize(
    ("executor", "parallel", "match"),
    [
        ("threads", None, "executor='threads'"),
        ("process", 0, "max_parallel_trials=0"),
        ("inline", 3, "max_parallel_trials=3 with executor='inline'"),
        ("process", 2.5, "max_parallel_trials=2.5"),
    ],
)
def test_bad_executor_arguments_are_named(tmp_path, executor, parallel, match):
    with pytest.raises(ValueError, match=match):
        _tuner(tmp_path, quadratic, executor=executor, max_parallel_trials=parallel)
    with pytest.raises(ValueError, match=match):
        resolve_executor(executor, parallel)


def test_bad_pool_arguments_are_named():
    with pytest.raises(ValueError, match="gpus=3"):
        ProcessPoolExecutor(2, gpus=3)
    with pytest.raises(ValueError, match="start_method='threads'"):
        ProcessPoolExecutor(2, start_method="threads")


def test_max_parallel_trials_alone_means_a_process_pool():
    executor = resolve_executor(None, 2)
    assert isinstance(executor, ProcessPoolExecutor) and executor.max_parallel_trials == 2
    assert resolve_executor("inline", 1) is None


def test_importing_the_executors_loads_no_dask():
    code = (
        "import sys, tunelab.executors; print('distributed' in sys.modules, 'dask' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_asha_stops_trials_running_in_pool_workers(tmp_path):
    tuner = asha_tuner(tmp_path)
    tuner.search(executor=ProcessPoolExecutor(2), verbose=0)
    assert_asha_stopped_trials_early(tuner)
