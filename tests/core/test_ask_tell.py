"""Ask/tell on the oracle: define-by-run, reports, telling by id across processes, bad tells."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tunelab as kt
from tunelab.tuner import is_trial_result


def objective(hp):
    x = hp.Float("x", -3.0, 3.0)
    kind = hp.Choice("kind", ["square", "abs"])
    return (x - 1) ** 2 if kind == "square" else abs(x - 1)


def test_same_seed_same_sequence_through_ask_tell_and_search(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=12, seed=5)
    told = []
    while (trial := oracle.ask()) is not None:
        oracle.tell(trial, objective(trial.hyperparameters))
        told.append(dict(trial.hyperparameters.values))
    tuner = kt.RandomSearch(
        objective, objective="loss", max_trials=12, seed=5, directory=tmp_path, project_name="p"
    )
    tuner.search(verbose=0)
    searched = [t.hyperparameters.values for t in tuner.oracle.trials.values()]
    assert told == searched
    assert len(told) == 12


def test_define_by_run_values_are_sampled_and_stored(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, seed=0, directory=tmp_path, project_name="dbr"
    )
    trial = oracle.ask()
    assert trial.hyperparameters.values == {}
    x = trial.hyperparameters.Float("x", 0.0, 1.0)
    assert 0.0 <= x <= 1.0
    oracle.tell(trial, x)
    assert [hp.name for hp in oracle.hyperparameters.space] == ["x"]
    second = oracle.ask()
    assert "x" in second.hyperparameters.values  # now sampled at ask time
    assert oracle.get_trial(trial.trial_id).hyperparameters.values == {"x": x}


def test_tell_forms_number_dict_and_failure():
    oracle = kt.oracles.RandomSearchOracle(
        objective="val_accuracy", max_trials=5, seed=0, max_retries_per_trial=0
    )
    t1 = oracle.ask()
    t1.hyperparameters.Int("u", 1, 3)
    assert oracle.tell(t1, 0.93).score == 0.93
    t2 = oracle.ask()
    done = oracle.tell(t2, {"val_loss": 0.2, "val_accuracy": 0.91})
    assert done.status == "COMPLETED" and done.score == 0.91
    assert done.metrics.get_best_value("val_loss") == 0.2
    t3 = oracle.ask()
    failed = oracle.tell(t3, status="FAILED", error=RuntimeError("out of memory"))
    assert failed.status == "FAILED" and "out of memory" in failed.message
    assert [t.trial_id for t in oracle.get_best_trials(5)] == [t1.trial_id, t2.trial_id]


def test_bad_tells_raise_and_change_nothing(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=5, seed=0, directory=tmp_path, project_name="bad"
    )
    trial = oracle.ask()
    trial.hyperparameters.Float("x", 0.0, 1.0)
    with pytest.raises(TypeError, match="result 'high' has type str; expected a number"):
        oracle.tell(trial, "high")
    with pytest.raises(
        TypeError,
        match=r"metric 'loss'=\[1\]: expected a metric name and a "
        r"number",
    ):
        oracle.tell(trial, {"loss": [1]})
    with pytest.raises(ValueError, match="does not contain the objective"):
        oracle.tell(trial, {"accuracy": 0.5})
    with pytest.raises(ValueError, match="status='DONE'"):
        oracle.tell(trial, 1.0, status="DONE")
    with pytest.raises(KeyError, match="unknown trial id 'nope'"):
        oracle.tell("nope", 1.0)
    assert oracle.get_trial(trial.trial_id).status == "RUNNING"
    oracle.tell(trial, 0.25)
    with pytest.raises(ValueError, match="already finished; telling it again changes nothing"):
        oracle.tell(trial, 0.1)
    with pytest.raises(ValueError, match="already finished"):
        oracle.tell(trial.trial_id, 0.1)
    assert oracle.get_trial(trial.trial_id).score == 0.25


def test_report_and_should_stop_with_a_pruning_oracle():
    class StopAfterTwo(kt.oracles.RandomSearchOracle):
        def should_stop(self, trial, step):
            return step >= 2

    oracle = StopAfterTwo(objective="loss", max_trials=2, seed=0)
    trial = oracle.ask()
    rate = trial.hyperparameters.Float("rate", 0.1, 0.5)
    steps = 0
    for step in range(10):
        trial.report((1 - rate) ** step, step)
        steps += 1
        if trial.should_stop():
            break
    assert steps == 3
    done = oracle.tell(trial)
    assert done.status == "STOPPED"
    assert done.score == pytest.approx((1 - rate) ** 2) and done.best_step == 2


def _python(code, cwd):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ask_in_one_process_tell_in_another_by_id(tmp_path):
    asked = _python(
        """
        import tunelab as kt
        oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=3, seed=1,
                                               directory=".", project_name="remote")
        trial = oracle.ask()
        x = trial.hyperparameters.Float("x", 0.0, 1.0)
        print(trial.trial_id, x)
        """,
        tmp_path,
    )
    assert asked.returncode == 0, asked.stderr
    trial_id, x = asked.stdout.split()
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, seed=1, directory=tmp_path, project_name="remote"
    )
    oracle.tell(trial_id, 0.5)
    stored = oracle.get_trial(trial_id)
    assert stored.status == "COMPLETED" and stored.score == 0.5
    with pytest.raises(ValueError, match="already finished"):
        oracle.tell(trial_id, 0.4)


def test_kill_between_ask_and_tell_runs_the_trial_again(tmp_path):
    killed = _python(
        """
        import os, signal
        import tunelab as kt
        oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=4, seed=1,
                                               directory=".", project_name="killed")
        for _ in range(2):
            trial = oracle.ask()
            oracle.tell(trial, trial.hyperparameters.Float("x", 0.0, 1.0))
        trial = oracle.ask()
        print(trial.trial_id, trial.hyperparameters.values["x"], flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        tmp_path,
    )
    assert killed.returncode == -9
    trial_id, x = killed.stdout.split()
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=4, seed=1, directory=tmp_path, project_name="killed"
    )
    again = oracle.ask()
    assert again.trial_id == trial_id
    assert again.hyperparameters.values["x"] == float(x)
    oracle.tell(again, 0.1)
    last = oracle.ask()
    oracle.tell(last, 0.2)
    assert oracle.ask() is None
    statuses = [t.status for t in oracle.trials.values()]
    assert statuses == ["COMPLETED"] * 4


def test_function_objective_that_raises_is_failed_and_search_goes_on(tmp_path):
    def fn(hp):
        x = hp.Float("x", 0.0, 1.0)
        if x > 0.5:
            raise ArithmeticError("diverged")
        return x

    tuner = kt.RandomSearch(
        fn,
        objective="loss",
        max_trials=12,
        seed=3,
        max_consecutive_failed_trials=None,
        directory=tmp_path,
        project_name="raise",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 12
    for t in trials:
        if t.hyperparameters.values["x"] > 0.5:
            assert t.status == "FAILED" and "ArithmeticError: diverged" in t.message
        else:
            assert t.status == "COMPLETED" and math.isclose(t.score, t.hyperparameters.values["x"])


def test_a_detached_trial_is_not_handed_out_again_when_its_process_exits(tmp_path):
    asked = _python(
        """
        import tunelab as kt
        oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=3, seed=1,
                                               directory=".", project_name="cluster")
        oracle.hyperparameters.Float("x", 0.0, 1.0)
        trial = oracle.ask(detached=True)
        print(trial.trial_id, trial.hyperparameters.values["x"])
        """,
        tmp_path,
    )
    assert asked.returncode == 0, asked.stderr
    detached_id, x = asked.stdout.split()
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, seed=1, directory=tmp_path, project_name="cluster"
    )
    # The asking process has exited, yet its detached trial is still out on the cluster.
    other = oracle.ask()
    assert other.trial_id != detached_id
    assert oracle.get_trial(detached_id).status == "RUNNING"
    oracle.tell(other, 0.3)
    oracle.tell(detached_id, {"loss": 0.2})
    assert oracle.get_trial(detached_id).score == 0.2
    assert oracle.get_trial(detached_id).hyperparameters.values["x"] == float(x)


def test_release_by_id_hands_a_detached_trial_out_again(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=2, seed=0, directory=tmp_path, project_name="rel"
    )
    oracle.hyperparameters.Float("x", 0.0, 1.0)
    lost = oracle.ask(detached=True)
    oracle.release(lost.trial_id)
    again = oracle.ask()
    assert again.trial_id == lost.trial_id
    assert again.hyperparameters.values == lost.hyperparameters.values
    with pytest.raises(TypeError, match="trial id string"):
        oracle.release(3)


class _ScalarTensor:
    """What a framework's 0-d tensor looks like to the core: ndim 0, a dtype, __float__."""

    ndim = 0
    dtype = "float32"

    def __init__(self, value):
        self.value = value

    def __float__(self):
        return float(self.value)


@pytest.mark.parametrize(
    "make",
    [np.float32, lambda v: np.array(v), lambda v: np.array([v]).mean(), _ScalarTensor],
    ids=["np.float32", "0-d array", "np.mean", "scalar tensor"],
)
def test_zero_dimensional_arrays_and_tensors_are_results(tmp_path, make):
    tuner = kt.RandomSearch(
        lambda hp: make((hp.Float("x", 0.0, 1.0) - 0.25) ** 2),
        objective="loss",
        max_trials=3,
        seed=2,
        directory=tmp_path,
        project_name="scalar",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 3
    for t in trials:
        expected = (t.hyperparameters.values["x"] - 0.25) ** 2
        assert t.score == pytest.approx(expected, rel=1e-6)


def test_booleans_vectors_and_complex_numbers_are_not_results():
    assert not is_trial_result(np.array(True))
    assert not is_trial_result(np.bool_(False))
    assert not is_trial_result(np.array([0.5, 1.0]))
    assert not is_trial_result(np.array(1 + 2j))
    assert is_trial_result(np.array(3, dtype=np.int64))


def test_a_function_that_takes_trial_reports_steps_and_is_pruned(tmp_path):
    oracle = kt.oracles.ASHAOracle(
        objective=kt.Objective("loss", "min"),
        max_trials=12,
        max_epochs=27,
        factor=3,
        seed=0,
        directory=tmp_path,
        project_name="pruned",
    )
    epochs_run = []

    def train(hp, trial):
        x = hp.Float("x", 0.0, 1.0)
        for epoch in range(1, 28):
            if trial.report((x - 0.6) ** 2 + 1.0 / epoch, step=epoch) == "STOPPED":
                break
        epochs_run.append(epoch)
        # returns None: the reported steps are the result

    tuner = kt.BaseTuner(oracle, train, directory=tmp_path, project_name="pruned")
    tuner.search(verbose=0)
    trials = list(oracle.trials.values())
    assert len(trials) == 12
    assert all(t.status in ("COMPLETED", "STOPPED") for t in trials)
    assert min(epochs_run) < 27  # some trials were stopped early
    assert sum(epochs_run) < 12 * 27
    best = oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(min(t.score for t in trials if t.score is not None))


def test_a_function_that_returns_none_without_reporting_fails_clearly(tmp_path):
    def forgot_return(hp):
        hp.Float("x", 0.0, 1.0)

    tuner = kt.RandomSearch(
        forgot_return,
        objective="loss",
        max_trials=2,
        max_consecutive_failed_trials=None,
        directory=tmp_path,
        project_name="none",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["FAILED", "FAILED"]
    assert "forgot_return returned None" in trials[0].message
