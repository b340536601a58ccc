"""ASHA: rungs, how many trials pass each one, the best never stopped, shared records."""

from __future__ import annotations

import numpy as np
import pytest

import tunelab as kt
from tunelab.oracles.asha import ASHAOracle, asha_rungs

LOSS = kt.Objective("loss", "min")


def curve(values, epochs):
    """A learning curve whose ranking of configurations is the same at every length."""
    return (values["x"] - 0.7) ** 2 + 0.5 * (values["y"] - 0.3) ** 2 + 0.5 / epochs


def space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Float("y", 0.0, 1.0)
    return hp


def train(trial, value_at, max_epochs):
    """Report every epoch until the oracle says stop; return the epochs trained."""
    for epoch in range(1, max_epochs + 1):
        if trial.report(value_at(epoch), step=epoch) == kt.TrialStatus.STOPPED:
            break
    trial._oracle.tell(trial)
    return epoch


def test_rungs():
    assert asha_rungs(27, 1, 3) == [1, 3, 9]
    assert asha_rungs(100, 2, 3) == [2, 6, 18, 54]
    assert asha_rungs(16, 1, 2) == [1, 2, 4, 8]
    assert asha_rungs(5, 5, 3) == []
    assert ASHAOracle(LOSS, max_epochs=81, min_epochs=3).rungs == [3, 9, 27]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_epochs": 0}, "max_epochs=0; expected an int >= 1"),
        ({"min_epochs": 0}, "min_epochs=0; expected an int >= 1"),
        ({"factor": 1}, "factor=1; expected an int >= 2"),
        ({"max_epochs": 3, "min_epochs": 9}, "min_epochs=9 is larger than max_epochs=3"),
        ({"max_trials": 0}, "max_trials=0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ASHAOracle(LOSS, **kwargs)


def test_about_one_in_factor_trials_passes_each_rung():
    # Noise-only curves: the values at each rung arrive in random order, the setting in
    # which successive halving keeps 1/factor.
    reached = []
    for seed in range(3):
        oracle = ASHAOracle(
            LOSS, max_epochs=27, factor=3, max_trials=243, seed=seed, hyperparameters=space()
        )
        while (trial := oracle.ask()) is not None:
            noise = np.random.default_rng([seed, trial.number])
            reached.append(train(trial, lambda _, rng=noise: float(rng.random()), 27))
        records = oracle.rung_records()
        assert sorted(records) == [1, 3, 9] and len(records[1]) == 243
    reached = np.array(reached)
    fractions = [np.mean(reached >= epochs) for epochs in (3, 9, 27)]
    assert fractions[0] == pytest.approx(1 / 3, rel=0.15)
    assert fractions[1] == pytest.approx(1 / 9, rel=0.3)
    assert fractions[2] == pytest.approx(1 / 27, rel=0.6)


def test_the_best_configuration_is_never_stopped_and_most_epochs_are_saved():
    oracle = ASHAOracle(
        LOSS, max_epochs=27, factor=3, max_trials=200, seed=0, hyperparameters=space()
    )
    used = 0
    best_so_far, record_holders = np.inf, []
    while (trial := oracle.ask()) is not None:
        values = trial.hyperparameters.values
        used += train(trial, lambda epoch, v=values: curve(v, epoch), 27)
        if curve(values, 27) < best_so_far:  # best at every rung when it got there
            best_so_far = curve(values, 27)
            record_holders.append(trial.trial_id)
    trials = oracle.trials
    assert record_holders == ["000", "039", "097"]
    for trial_id in record_holders:
        assert trials[trial_id].status == kt.TrialStatus.COMPLETED
        assert trials[trial_id].metrics.get_history("loss")[-1].step == 27
    best = oracle.get_best_trials()[0]
    assert best.trial_id == record_holders[-1]
    assert best.score == pytest.approx(
        min(curve(t.hyperparameters.values, 27) for t in trials.values())
    )
    # 500 epochs instead of 200 * 27 = 5400 for the same best configuration.
    assert used == 500
    assert used / (200 * 27) < 0.12
    statuses = [t.status for t in trials.values()]
    assert statuses.count("COMPLETED") == 4 and statuses.count("STOPPED") == 196


def test_trials_run_side_by_side_never_wait_for_each_other():
    oracle = ASHAOracle(
        LOSS, max_epochs=9, factor=3, max_trials=60, seed=1, hyperparameters=space()
    )
    in_flight, epochs_done, finished = [], {}, 0
    while True:
        while len(in_flight) < 6 and (trial := oracle.ask()) is not None:
            in_flight.append(trial)
            epochs_done[trial.trial_id] = 0
        assert len(in_flight) == 6 or len(oracle.trials) == 60  # a new trial whenever asked
        if not in_flight:
            break
        for trial in list(in_flight):  # one epoch each, in turn
            epoch = epochs_done[trial.trial_id] = epochs_done[trial.trial_id] + 1
            status = trial.report(curve(trial.hyperparameters.values, epoch), step=epoch)
            if status == kt.TrialStatus.STOPPED or epoch == 9:
                oracle.tell(trial)
                in_flight.remove(trial)
                finished += 1
    assert finished == 60
    records = oracle.rung_records()
    assert len(records[1]) == 60 and 15 <= len(records[3]) <= 30
    reached_9 = [t for t in oracle.trials.values() if t.status == "COMPLETED"]
    assert {t.trial_id for t in reached_9} <= set(records[3])


def test_records_are_shared_through_the_store(tmp_path):
    first = ASHAOracle(LOSS, max_epochs=9, max_trials=10, directory=tmp_path, project_name="p")
    second = ASHAOracle(LOSS, max_epochs=9, max_trials=10, directory=tmp_path, project_name="p")
    statuses = []
    for value in (0.1, 0.2, 0.3):
        trial = first.ask()
        statuses.append(trial.report({"loss": value}, step=1))
    assert statuses == ["RUNNING", "STOPPED", "STOPPED"]
    # Alone, the other process's first trial would pass (best so far); against the shared
    # record of four values at rung 1 it is not in the top max(1, 4 // 3) = 1.
    other = second.ask()
    assert other.report(0.15, step=1) == "STOPPED"
    assert second.rung_records() == {1: {"0": 0.1, "1": 0.2, "2": 0.3, "3": 0.15}}


def test_larger_is_better_objectives_sparse_reports_and_final_decisions():
    oracle = ASHAOracle(kt.Objective("val_accuracy", "max"), max_epochs=27, max_trials=10)
    good = oracle.ask()
    assert good.report({"val_accuracy": 0.9}, step=5) == "RUNNING"  # rungs 1 and 3 at once
    worse = oracle.ask()
    assert worse.report({"val_accuracy": 0.5, "loss": 2.0}, step=1) == "STOPPED"
    better = oracle.ask()
    assert better.report({"val_accuracy": 0.95}, step=1) == "RUNNING"  # best so far
    assert oracle.rung_records() == {1: {"0": 0.9, "1": 0.5, "2": 0.95}, 3: {"0": 0.9}}
    # A report without the objective cannot be judged.
    assert better.report({"loss": 1.0}, step=3) == "RUNNING"
    assert better.report({"val_accuracy": 0.96}, step=4) == "RUNNING"
    # A decision is final: `good` passed rung 3 alone and is not judged there again.
    assert good.report({"val_accuracy": 0.91}, step=6) == "RUNNING"
    assert oracle.rung_records()[3] == {"0": 0.9, "2": 0.96}
    assert oracle.tell(worse).status == "STOPPED"
    assert oracle.tell(good).status == "COMPLETED"
