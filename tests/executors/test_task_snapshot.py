"""The best trials a worker may read, sent with each task: the same as the driver's oracle
answers, however often they are reused between tasks."""

from __future__ import annotations

import pickle

import pytest

import tunelab as kt
from tunelab.executors.worker import task_for
from tunelab.stored_settings import ProjectMismatchError


def _objective(hp):
    value = (hp.Float("x", -5.0, 5.0) - 1.0) ** 2 + hp.Int("z", 0, 10)
    if hp.Boolean("extra"):
        value += hp.Float("w", 0.0, 1.0)  # registered while some trials run
    return value


def test_each_task_carries_the_ten_best_trials_as_the_oracle_gives_them(tmp_path):
    tuner = kt.RandomSearch(
        _objective,
        objective=kt.Objective("loss", "min"),
        max_trials=130,
        seed=5,
        directory=tmp_path,
        project_name="snapshot",
    )
    oracle = tuner.oracle
    sizes = set()
    for _ in range(120):
        trial = oracle.ask()
        # What a worker receives: the task after a trip through pickle.
        task = pickle.loads(pickle.dumps(task_for(trial, oracle, None)))
        best = oracle.get_best_trials(10)
        assert task.best_trial_ids == [t.trial_id for t in best]
        assert task.known_trials == {t.trial_id: t.get_config() for t in best}
        assert type(task.known_trials) is dict
        sizes.add(len(task.known_trials))
        oracle.tell(trial, _objective(trial.hyperparameters))
    assert sizes == set(range(11))
    # The space grew while the search ran ("w"): the configs sent after that name it.
    assert "w" in oracle.hyperparameters
    last = pickle.loads(pickle.dumps(task_for(oracle.ask(), oracle, None)))
    names = {
        item["config"]["name"]
        for item in next(iter(last.known_trials.values()))["hyperparameters"]["space"]
    }
    assert names == {"x", "z", "extra", "w"}


def test_a_project_reopened_for_another_objective_is_refused_and_left_as_it_was(tmp_path):
    # Finished trials used to be rescored for the new objective; a project of another
    # search is now refused (issue 20), so the snapshot stays what the store holds.
    tuner = kt.RandomSearch(
        _objective,
        objective=kt.Objective("loss", "min"),
        max_trials=30,
        seed=1,
        directory=tmp_path,
        project_name="rescore",
    )
    oracle = tuner.oracle
    for _ in range(12):
        trial = oracle.ask()
        oracle.tell(trial, _objective(trial.hyperparameters))
    before = task_for(oracle.ask(), oracle, None)
    with pytest.raises(ProjectMismatchError, match="objective"):
        kt.RandomSearch(
            _objective,
            objective=kt.Objective("loss", "max"),
            max_trials=30,
            seed=1,
            directory=tmp_path,
            project_name="rescore",
        )
    again = kt.RandomSearch(
        _objective,
        objective=kt.Objective("loss", "min"),
        max_trials=30,
        seed=1,
        directory=tmp_path,
        project_name="rescore",
    )
    after = task_for(again.oracle.ask(), again.oracle, None)
    assert after.best_trial_ids == before.best_trial_ids
