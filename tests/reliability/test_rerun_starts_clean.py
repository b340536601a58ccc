"""A trial that runs again (after Ctrl-C, after its process died, or as a retry) starts from
scratch: what the interrupted run reported is not mixed into the new run's metrics."""

from __future__ import annotations

import subprocess
import sys

import tunelab as kt

from . import proof


def _oracle(tmp_path, **kwargs):
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, seed=0, directory=tmp_path, project_name="p", **kwargs
    )
    oracle.hyperparameters.Float("x", 0.0, 1.0)
    return oracle


def _history(trial):
    return [o.get_config() for o in trial.metrics.metrics["loss"].get_history()]


def test_a_released_trial_runs_again_without_the_interrupted_runs_reports(tmp_path):
    oracle = _oracle(tmp_path)
    first = oracle.ask()
    first.report(100.0, 0)
    oracle.release(first)  # what Ctrl-C does to the running trial
    again = oracle.ask()
    assert again.trial_id == first.trial_id
    assert again.hyperparameters.values == first.hyperparameters.values
    again.report(1.0, 0)
    done = oracle.tell(again)
    assert done.score == 1.0
    assert _history(oracle.get_trial(first.trial_id)) == [{"value": [1.0], "step": 0}]
    proof.add("faults_injected")


def test_a_trial_of_a_dead_process_runs_again_from_scratch(tmp_path):
    oracle = _oracle(tmp_path)
    trial = oracle.ask()
    trial.report(100.0, 0)
    # Hand the running trial to a process that has exited, as if it had been killed.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with oracle.store.transaction() as conn:
        conn.execute(
            "UPDATE trials SET owner_pid=? WHERE trial_id=?", (int(dead.stdout), trial.trial_id)
        )
    other = _oracle(tmp_path)  # another process resuming the project
    again = other.ask()
    assert again.trial_id == trial.trial_id
    again.report(2.0, 0)
    assert other.tell(again).score == 2.0
    assert _history(other.get_trial(trial.trial_id)) == [{"value": [2.0], "step": 0}]
    proof.add("faults_injected")


def test_a_retried_trial_does_not_average_in_the_failed_attempt(tmp_path):
    oracle = _oracle(tmp_path, max_retries_per_trial=1)
    trial = oracle.ask()
    trial.report(50.0, 0)
    oracle.tell(trial, error=RuntimeError("flaky"))
    retry = oracle.ask()
    assert retry.trial_id == trial.trial_id and retry.retries == 1
    assert oracle.tell(retry, 3.0).score == 3.0
    assert _history(oracle.get_trial(trial.trial_id)) == [{"value": [3.0], "step": 0}]
    proof.add("faults_injected")
