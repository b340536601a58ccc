"""KerasTuner-style Hyperband code: the brackets run the trials KerasTuner 1.4.8 runs.

The expected values are KerasTuner 1.4.8's, recorded by running the same user code with
``import keras_tuner as kt`` (the same `run_trial` override and objective). The objective
scores a configuration by the order in which it was first drawn, so which trials are
promoted does not depend on the random draws of either library.
"""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

import tunelab as kt

# KerasTuner 1.4.8: (tuner/epochs, tuner/initial_epoch, tuner/bracket, tuner/round,
# tuner/trial_id as the number of the continued trial) of every trial, in order.
R0 = None  # a round-0 trial has no tuner/trial_id
KERAS_TUNER_9_3 = [
    *[(1, 0, 2, 0, R0)] * 9,
    (3, 1, 2, 1, 0),
    (3, 1, 2, 1, 7),
    (3, 1, 2, 1, 5),
    (9, 3, 2, 2, 9),
    *[(3, 0, 1, 0, R0)] * 5,
    (9, 3, 1, 1, 15),
    (9, 3, 1, 1, 13),
    *[(9, 0, 0, 0, R0)] * 3,
]
KERAS_TUNER_10_3 = [
    *[(2, 0, 2, 0, R0)] * 12,
    (4, 2, 2, 1, 0),
    (4, 2, 2, 1, 11),
    (4, 2, 2, 1, 9),
    (4, 2, 2, 1, 7),
    (10, 4, 2, 2, 12),
    (10, 4, 2, 2, 13),
    *[(4, 0, 1, 0, R0)] * 6,
    (10, 4, 1, 1, 22),
    (10, 4, 1, 1, 20),
    *[(10, 0, 0, 0, R0)] * 4,
]
KERAS_TUNER_4_2 = [
    *[(1, 0, 2, 0, R0)] * 4,
    (2, 1, 2, 1, 0),
    (2, 1, 2, 1, 3),
    (4, 2, 2, 2, 4),
    *[(2, 0, 1, 0, R0)] * 3,
    (4, 2, 1, 1, 8),
    (4, 2, 1, 1, 9),
    *[(4, 0, 0, 0, R0)] * 3,
]


class LoggingHyperband(kt.Hyperband):
    """A user's Hyperband with its own training loop, as KerasTuner's docs show."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = []
        self.first_seen = {}

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        x = hp.get("x")
        if "tuner/trial_id" not in hp.values:
            self.first_seen[x] = len(self.first_seen)
        parent = hp.values.get("tuner/trial_id")
        self.log.append(
            (
                hp["tuner/epochs"],
                hp["tuner/initial_epoch"],
                hp["tuner/bracket"],
                hp["tuner/round"],
                None if parent is None else int(parent),
            )
        )
        return (self.first_seen[x] * 5) % 11 + 1.0 / hp["tuner/epochs"]


def run(tmp_path, max_epochs, factor):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    tuner = LoggingHyperband(
        hyperparameters=hp,
        max_epochs=max_epochs,
        factor=factor,
        seed=1,
        directory=tmp_path,
        project_name=f"hb_{max_epochs}_{factor}",
    )
    tuner.search(verbose=0)
    return tuner


@pytest.mark.parametrize(
    ("max_epochs", "factor", "expected"),
    [
        (2, 3, [(2, 0, 0, 0, R0)] * 2),  # KerasTuner 1.4.8: 2 trials (the paper's sizing: 1)
        (9, 3, KERAS_TUNER_9_3),  # 23 trials (the paper's: 22)
        (10, 3, KERAS_TUNER_10_3),  # 30 trials
        (4, 2, KERAS_TUNER_4_2),  # 15 trials
    ],
)
def test_hyperband_runs_keras_tuners_trials_in_its_order(tmp_path, max_epochs, factor, expected):
    tuner = run(tmp_path, max_epochs, factor)
    assert tuner.log == expected
    assert len(tuner.oracle.trials) == len(expected)


@pytest.mark.parametrize(
    ("max_epochs", "factor", "trials"),
    # KerasTuner 1.4.8's trial counts for these budgets.
    [(1, 3, 1), (3, 3, 6), (27, 3, 70), (81, 3, 211), (100, 3, 254), (8, 2, 36), (125, 5, 215)],
)
def test_a_hyperband_budget_runs_as_many_trials_as_keras_tuner(max_epochs, factor, trials):
    oracle = kt.oracles.HyperbandOracle(objective="loss", max_epochs=max_epochs, factor=factor)
    assert oracle.max_trials == trials


def test_a_hyperband_search_of_27_epochs_runs_70_trials(tmp_path):
    tuner = run(tmp_path, 27, 3)
    assert len(tuner.log) == 70  # KerasTuner 1.4.8
    # Every promotion continues a trial of the previous round of its bracket.
    for _, initial, bracket, rnd, parent in tuner.log:
        if parent is not None:
            assert tuner.log[parent][2:4] == (bracket, rnd - 1)
            assert tuner.log[parent][0] == initial


@pytest.mark.parametrize(
    "name",
    [
        "tunelab.oracles.grid",
        "tunelab.oracles.hyperband",
        "tunelab.oracles.hyperband_brackets",
        "tunelab.tuners",
    ],
)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("/tmp/tunelab-doc", exist_ok=True)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
