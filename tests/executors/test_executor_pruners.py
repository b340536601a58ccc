"""Pruners stop trials that run in worker processes: reports travel to the driver, whose
oracle asks the pruner, and the answer comes back to the worker."""

from __future__ import annotations

import os
import statistics
import time

import pytest

import tunelab as kt
from tunelab.executors import ProcessPoolExecutor

STEPS = 10


def learning_curve(hp, trial, delay: float = 0.01):
    """A loss that falls with each step; the farther x is from 0.5, the worse at every
    step. Reports where it runs, and stops when the report says so."""
    x = hp.Float("x", -2.0, 2.0)
    for step in range(1, STEPS + 1):
        time.sleep(delay)
        loss = (x - 0.5) ** 2 + 1.0 / step
        if trial.report({"loss": loss, "pid": os.getpid()}, step=step) == "STOPPED":
            break


def grid_curve(hp, trial, delay: float = 0.01):
    """In grid order the configurations get worse: the first ones complete, later ones stop."""
    offset = hp.Int("offset", 0, 7)
    for step in range(1, STEPS + 1):
        time.sleep(delay)
        if trial.report({"loss": offset + 1.0 / step, "pid": os.getpid()}, step=step) == "STOPPED":
            break


def _steps(trial):
    return [o.step for o in trial.metrics.get_history("loss")]


def test_a_median_pruner_stops_a_bayesian_searchs_trials_in_pool_workers(tmp_path):
    pruner = kt.pruners.MedianPruner(n_startup_trials=3)
    tuner = kt.BayesianOptimization(
        learning_curve,
        objective="loss",
        max_trials=12,
        seed=0,
        directory=tmp_path,
        project_name="p",
        executor="process",
        max_parallel_trials=2,
        pruner=pruner,
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    stopped = [t for t in trials if t.status == "STOPPED"]
    completed = [t for t in trials if t.status == "COMPLETED"]
    assert len(stopped) + len(completed) == 12
    assert len(stopped) >= 2 and len(completed) >= 3
    # The trials ran in the workers, not in the driver; stopped ones trained fewer steps.
    pids = {t.metrics.get_last_value("pid") for t in trials}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    # (A trial may be judged worse at its very last report: STOPPED after all its steps.)
    assert sum(_steps(t)[-1] < STEPS for t in stopped) >= 2
    for trial in stopped:
        last = _steps(trial)[-1]
        # The driver's pruner judged the reported values: at the step where the trial
        # stopped, its best loss so far was worse than the median of the trials that had
        # completed (at least the 3 startup trials; those told later count too, so only
        # the best trial's value is a safe bound).
        best_so_far = min(trial.metrics.get_history("loss")[i].mean() for i in range(last))
        assert best_so_far > min(c.metrics.get_history("loss")[last - 1].mean() for c in completed)
    for trial in completed:
        assert _steps(trial) == list(range(1, STEPS + 1))
    # Good trials complete: the best trial ran to the end, and it is the best configuration.
    best = tuner.get_best_trials(1)[0]
    assert best.status == "COMPLETED"
    assert best.score == pytest.approx(
        min((t.hyperparameters.get("x") - 0.5) ** 2 for t in completed) + 1.0 / STEPS
    )
    assert abs(best.hyperparameters.get("x") - 0.5) < statistics.median(
        abs(t.hyperparameters.get("x") - 0.5) for t in stopped
    )


def test_a_grid_search_is_pruned_in_pool_workers(tmp_path):
    space = kt.HyperParameters()
    space.Int("offset", 0, 7)  # the grid is known before the first trial runs
    tuner = kt.GridSearch(
        grid_curve,
        objective="loss",
        hyperparameters=space,
        directory=tmp_path,
        project_name="p",
        pruner=kt.pruners.MedianPruner(n_startup_trials=2),
    )
    tuner.search(executor=ProcessPoolExecutor(2), verbose=0)
    trials = {t.hyperparameters.get("offset"): t for t in tuner.oracle.trials.values()}
    assert sorted(trials) == list(range(8))
    assert trials[0].status == "COMPLETED" and _steps(trials[0]) == list(range(1, STEPS + 1))
    # Offsets 3 and up start after two trials completed (or soon after) and are worse than
    # their median at every step: they stop long before the end.
    for offset in range(3, 8):
        assert trials[offset].status == "STOPPED"
        assert _steps(trials[offset])[-1] <= 3
    assert os.getpid() not in {t.metrics.get_last_value("pid") for t in trials.values()}


def test_hyperband_pruner_in_pool_workers_records_each_trial_in_its_bracket(tmp_path):
    pruner = kt.pruners.HyperbandPruner(max_resource=STEPS, min_resource=1, factor=3)
    tuner = kt.RandomSearch(
        learning_curve,
        objective="loss",
        max_trials=12,
        seed=1,
        directory=tmp_path,
        project_name="p",
        pruner=pruner,
    )
    tuner.search(executor=ProcessPoolExecutor(2), verbose=0)
    trials = list(tuner.oracle.trials.values())
    records = pruner.records(tuner.oracle)
    for number, trial in enumerate(trials):
        bracket = pruner.bracket_of(number)
        first_rung = pruner.brackets[bracket].rungs[:1]
        # Every trial that reached its bracket's first rung was recorded there, in the store
        # of the driver; trials stop only at a rung of their bracket.
        if first_rung:
            assert trial.trial_id in records[bracket][first_rung[0]]
        last = _steps(trial)[-1]
        assert last == STEPS or last in pruner.brackets[bracket].rungs
    assert any(t.status == "STOPPED" for t in trials)


def test_a_median_pruner_stops_trials_on_dask_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=":0",  # any free port: another cluster may hold 8787
        silence_logs=True,
    )
    with cluster, distributed.Client(cluster) as client:
        space = kt.HyperParameters()
        space.Int("offset", 0, 7)
        tuner = kt.GridSearch(
            grid_curve,
            objective="loss",
            hyperparameters=space,
            directory=tmp_path,
            project_name="p",
            pruner=kt.pruners.MedianPruner(n_startup_trials=2),
        )
        tuner.search(executor=client, verbose=0)
        worker_pids = set(client.run(os.getpid).values())
    trials = {t.hyperparameters.get("offset"): t for t in tuner.oracle.trials.values()}
    assert sorted(trials) == list(range(8))
    assert trials[0].status == "COMPLETED" and _steps(trials[0]) == list(range(1, STEPS + 1))
    stopped = [t for t in trials.values() if t.status == "STOPPED"]
    assert len(stopped) >= 4 and all(_steps(t)[-1] < STEPS for t in stopped)
    assert {t.metrics.get_last_value("pid") for t in trials.values()} <= worker_pids
