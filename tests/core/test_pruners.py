"""Pruners: the median rule, successive halving and Hyperband's brackets, with any oracle."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest

import tunelab as kt
from tunelab.pruners import HyperbandPruner, MedianPruner, Pruner, SuccessiveHalvingPruner

LOSS = kt.Objective("loss", "min")


def run_curves(oracle, curves, stop_on_report=True):
    """Run one trial per curve (a list of values for steps 1, 2, ...), in turn; return the
    steps each trial trained."""
    trained = []
    for values in curves:
        trial = oracle.ask()
        assert trial is not None
        for step, value in enumerate(values, start=1):
            status = trial.report(value, step=step)
            if stop_on_report and status == kt.TrialStatus.STOPPED:
                break
        oracle.tell(trial)
        trained.append(step)
    return trained


def statuses(oracle):
    return [t.status for t in oracle.trials.values()]


# ---------------------------------------------------------------------------------------
# The median rule, on constructed sequences of trials
# ---------------------------------------------------------------------------------------
def test_median_stops_a_trial_worse_than_the_median_of_completed_trials_at_that_step():
    oracle = kt.oracles.RandomSearchOracle(LOSS, pruner=MedianPruner(n_startup_trials=3))
    trained = run_curves(
        oracle,
        [
            [5.0, 4.0, 3.0, 2.0],
            [6.0, 5.0, 4.0, 3.0],
            [4.0, 3.0, 2.0, 1.0],
            # Median of (5, 6, 4) at step 1 is 5: 5.5 is worse -> stopped at step 1.
            [5.5, 1.0, 1.0, 1.0],
            # 5.0 ties the median at step 1 (not worse); 4.5 at step 2 is worse than 4.
            [5.0, 4.5, 0.0, 0.0],
            # Better than the median at every step: runs to the end.
            [4.5, 3.5, 2.5, 1.5],
        ],
    )
    assert trained == [4, 4, 4, 1, 2, 4]
    assert statuses(oracle) == ["COMPLETED"] * 3 + ["STOPPED"] * 2 + ["COMPLETED"]
    # A stopped trial keeps the best score it reached; it is never the best trial.
    assert oracle.get_trial("4").score == 4.5
    assert oracle.get_best_trials(1)[0].trial_id == "2"


def test_median_compares_the_best_value_so_far_and_only_completed_trials():
    oracle = kt.oracles.RandomSearchOracle(LOSS, pruner=MedianPruner(n_startup_trials=2))
    # Two completed trials, then one stopped at step 1: it must not pull the median up.
    assert run_curves(oracle, [[2.0, 2.0, 2.0], [4.0, 4.0, 4.0], [9.0, 9.0, 9.0]]) == [3, 3, 1]
    trial = oracle.ask()
    # 1.0 at step 1 then 3.5 at step 2: the best so far (1.0) is below the median at step
    # 2 (3.0, from the two completed trials only), so it goes on though 3.5 is worse.
    assert trial.report(1.0, step=1) == "RUNNING"
    assert trial.report(3.5, step=2) == "RUNNING"
    # At a step no completed trial reported, there is nothing to compare with.
    assert trial.report(50.0, step=7) == "RUNNING"


def test_median_for_an_objective_to_maximize():
    oracle = kt.oracles.RandomSearchOracle(
        kt.Objective("val_accuracy", "max"), pruner=MedianPruner(n_startup_trials=2)
    )
    curves = [[0.5, 0.7], [0.6, 0.8], [0.54, 0.9], [0.56, 0.9]]
    assert run_curves(oracle, [[{"val_accuracy": v} for v in c] for c in curves]) == [2, 2, 1, 2]
    # A report without the objective cannot be judged.
    trial = oracle.ask()
    assert trial.report({"loss": 100.0}, step=1) == "RUNNING"


def test_median_startup_warmup_and_minimum_trials():
    pruner = MedianPruner(n_startup_trials=3, n_warmup_steps=2, n_min_trials=2)
    oracle = kt.oracles.RandomSearchOracle(LOSS, pruner=pruner)
    # Before three trials completed, nothing stops, however bad.
    assert run_curves(oracle, [[1.0] * 4, [9.0] * 4, [2.0] * 4]) == [4, 4, 4]
    # Warm-up: steps 1 is never judged; step 2 is (median of 1, 9, 2 is 2).
    assert run_curves(oracle, [[5.0, 5.0, 5.0, 5.0]]) == [2]
    # Step 5 was reported by one completed trial: fewer than n_min_trials=2.
    oracle2 = kt.oracles.RandomSearchOracle(
        LOSS, pruner=MedianPruner(n_startup_trials=1, n_min_trials=2)
    )
    assert run_curves(oracle2, [[1.0] * 5, [1.0] * 4, [3.0] * 5]) == [5, 4, 1]
    trial = oracle2.ask()
    for step in range(1, 5):
        assert trial.report(1.0, step=step) == "RUNNING"
    assert trial.report(99.0, step=5) == "RUNNING"  # only trial 0 reached step 5


def test_median_interval_judges_the_first_report_of_each_interval():
    pruner = MedianPruner(n_startup_trials=1, n_warmup_steps=1, interval_steps=3)
    oracle = kt.oracles.RandomSearchOracle(LOSS, pruner=pruner)
    run_curves(oracle, [[1.0, 0.5, 0.4, 0.3, 0.2]])
    # Judged steps for a trial reporting every step: 1, 4, 7, 10. At steps 2 and 3 its
    # 0.9 is worse than the completed trial's, but it is not judged there.
    trial = oracle.ask()
    assert [trial.report(v, step=s) for s, v in ((1, 1.0), (2, 0.9), (3, 0.9))] == ["RUNNING"] * 3
    assert trial.report(0.9, step=4) == "STOPPED"
    # A trial that reports every fifth step is judged at each report that opens an interval.
    assert [pruner._judged_at(s, dict.fromkeys((5, 10, 11, 12), 0.0)) for s in (5, 10, 11)] == [
        True,
        True,
        False,
    ]


def test_median_stops_a_trial_that_reports_only_nan():
    oracle = kt.oracles.RandomSearchOracle(LOSS, pruner=MedianPruner(n_startup_trials=1))
    run_curves(oracle, [[1.0, 1.0]])
    trial = oracle.ask()
    assert trial.report(math.nan, step=1) == "STOPPED"


def test_median_reads_trials_completed_by_another_process_on_the_project(tmp_path):
    first = kt.oracles.RandomSearchOracle(
        LOSS, pruner=MedianPruner(n_startup_trials=2), directory=tmp_path, project_name="p"
    )
    second = kt.oracles.BayesianOptimizationOracle(
        LOSS, pruner=MedianPruner(n_startup_trials=2), directory=tmp_path, project_name="p"
    )
    run_curves(first, [[1.0, 1.0], [2.0, 2.0]])
    trial = second.ask()
    assert trial.report(3.0, step=1) == "STOPPED"


# ---------------------------------------------------------------------------------------
# Successive halving and Hyperband
# ---------------------------------------------------------------------------------------
def curve(values, epochs):
    return (values["x"] - 0.7) ** 2 + 0.5 / epochs


def space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    return hp


def train_all(oracle, max_epochs):
    trained = {}
    while (trial := oracle.ask()) is not None:
        for epoch in range(1, max_epochs + 1):
            if trial.report(curve(trial.hyperparameters.values, epoch), step=epoch) == "STOPPED":
                break
        oracle.tell(trial)
        trained[trial.trial_id] = epoch
    return trained


def test_asha_oracle_is_random_search_with_a_successive_halving_pruner():
    asha = kt.ASHAOracle(LOSS, max_epochs=27, max_trials=40, seed=4, hyperparameters=space())
    assert isinstance(asha.pruner, SuccessiveHalvingPruner) and asha.pruner.rungs == [1, 3, 9]
    pruned = kt.oracles.RandomSearchOracle(
        LOSS,
        max_trials=40,
        seed=4,
        hyperparameters=space(),
        pruner=SuccessiveHalvingPruner(min_resource=1, factor=3, max_resource=27),
    )
    assert train_all(asha, 27) == train_all(pruned, 27)
    assert asha.rung_records() == pruned.pruner.records(pruned)
    assert [len(r) for r in asha.rung_records().values()] == [40, 14, 5]


def test_successive_halving_prunes_a_bayesian_search():
    pruner = SuccessiveHalvingPruner(min_resource=1, factor=3, max_resource=27)
    oracle = kt.oracles.BayesianOptimizationOracle(
        LOSS, max_trials=20, seed=0, hyperparameters=space(), pruner=pruner
    )
    trained = train_all(oracle, 27)
    trials = oracle.trials
    assert set(trained.values()) <= {1, 3, 9, 27}
    assert sum(trained.values()) < 20 * 27 / 3
    best = oracle.get_best_trials(1)[0]
    assert best.status == "COMPLETED" and trained[best.trial_id] == 27
    for trial_id, epochs in trained.items():
        expected = "COMPLETED" if epochs == 27 else "STOPPED"
        assert trials[trial_id].status == expected


def test_successive_halving_without_a_maximum_keeps_judging():
    pruner = SuccessiveHalvingPruner(min_resource=2, factor=2)
    assert pruner.rungs == [] and pruner.rungs_until(40) == [2, 4, 8, 16, 32]
    oracle = kt.oracles.RandomSearchOracle(LOSS, pruner=pruner)
    # The second trial is the best so far at rungs 2 to 16, and falls behind at 32.
    assert run_curves(oracle, [[1.0] * 40, [0.5] * 31 + [3.0] * 9]) == [40, 32]
    assert {rung: len(r) for rung, r in pruner.records(oracle).items()} == {
        2: 2,
        4: 2,
        8: 2,
        16: 2,
        32: 2,
    }


def test_hyperband_brackets_and_their_trials():
    pruner = HyperbandPruner(max_resource=9, min_resource=1, factor=3)
    assert [b.rungs for b in pruner.brackets] == [[1, 3], [3], []]
    assert pruner.trials_per_cycle == [9, 5, 3]
    cycle = [pruner.bracket_of(n) for n in range(17)]
    assert [cycle.count(b) for b in range(3)] == [9, 5, 3]
    assert cycle == [pruner.bracket_of(n + 17) for n in range(17)]

    oracle = kt.oracles.RandomSearchOracle(
        LOSS, max_trials=34, seed=2, hyperparameters=space(), pruner=pruner
    )
    trained = train_all(oracle, 9)
    records = pruner.records(oracle)
    for number, trial_id in enumerate(oracle.trials):
        bracket = pruner.bracket_of(number)
        # A trial is recorded only at its own bracket's rungs, and stopped only there.
        recorded = {rung for rung, r in records[bracket].items() if trial_id in r}
        assert recorded == {r for r in pruner.brackets[bracket].rungs if r <= trained[trial_id]}
        assert trained[trial_id] in [*pruner.brackets[bracket].rungs, 9]
        for other in range(3):
            if other != bracket:
                assert all(trial_id not in r for r in records[other].values())
        if bracket == 2:  # the bracket that never stops a trial
            assert trained[trial_id] == 9
    assert sorted(records) == [0, 1, 2] and records[2] == {}
    assert len(records[0][1]) == 18 and len(records[1][3]) == 10
    assert sorted(set(trained.values())) == [1, 3, 9]


# ---------------------------------------------------------------------------------------
# Tuners take pruner=
# ---------------------------------------------------------------------------------------
def stepped(hp, trial, steps=8):
    """Grid over `offset`: the larger the offset, the worse the curve at every step."""
    offset = hp.Int("offset", 0, 5)
    for step in range(1, steps + 1):
        if trial.report({"loss": offset + 1.0 / step}, step=step) == "STOPPED":
            break


@pytest.mark.parametrize("tuner_class", [kt.GridSearch, kt.BayesianOptimization, kt.RandomSearch])
def test_every_tuner_takes_a_pruner(tmp_path, tuner_class):
    pruner = MedianPruner(n_startup_trials=2)
    kwargs = {} if tuner_class is kt.GridSearch else {"max_trials": 6, "seed": 1}
    tuner = tuner_class(
        stepped, objective="loss", directory=tmp_path, pruner=pruner, overwrite=True, **kwargs
    )
    assert tuner.oracle.pruner is pruner
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    steps = {t.hyperparameters.get("offset"): len(t.metrics.get_history("loss")) for t in trials}
    if tuner_class is kt.GridSearch:  # in grid order: offsets 0 and 1 complete first
        assert steps == {0: 8, 1: 8, 2: 1, 3: 1, 4: 1, 5: 1}
    stopped = [t for t in trials if t.status == "STOPPED"]
    assert stopped and all(len(t.metrics.get_history("loss")) < 8 for t in stopped)
    assert tuner.get_best_trials(1)[0].status == "COMPLETED"


def test_a_tuners_pruner_replaces_the_oracles(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(LOSS, max_trials=2, pruner=MedianPruner())
    hyperband = HyperbandPruner(max_resource=8, factor=2)
    tuner = kt.BaseTuner(oracle, stepped, directory=tmp_path, pruner=hyperband)
    assert tuner.oracle.pruner is hyperband


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MedianPruner(n_startup_trials=-1), "n_startup_trials=-1; expected an int >= 0"),
        (lambda: MedianPruner(n_warmup_steps=1.5), r"n_warmup_steps=1.5; expected an int >= 0"),
        (lambda: MedianPruner(interval_steps=0), "interval_steps=0; expected an int >= 1"),
        (lambda: MedianPruner(n_min_trials=True), "n_min_trials=True; expected an int >= 1"),
        (lambda: SuccessiveHalvingPruner(min_resource=0), "min_resource=0; expected an int >= 1"),
        (lambda: SuccessiveHalvingPruner(factor=1), "factor=1; expected an int >= 2"),
        (
            lambda: SuccessiveHalvingPruner(min_resource=9, max_resource=3),
            "min_resource=9 is larger than max_resource=3",
        ),
        (
            lambda: SuccessiveHalvingPruner(max_resource="27"),
            "max_resource='27'; expected an int >= 1 or None",
        ),
        (lambda: HyperbandPruner(max_resource=None), "max_resource=None; expected an int >= 1"),
        (lambda: HyperbandPruner(27, factor=0), "factor=0; expected an int >= 2"),
        (
            lambda: HyperbandPruner(3, min_resource=5),
            "min_resource=5 is larger than max_resource=3",
        ),
    ],
)
def test_bad_pruner_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_pruner_that_is_not_a_pruner_is_refused(tmp_path):
    with pytest.raises(TypeError, match=r"pruner='median'; expected a kt.pruners.Pruner"):
        kt.oracles.BayesianOptimizationOracle(LOSS, pruner="median")
    with pytest.raises(TypeError, match=r"pruner=<class .*MedianPruner'>; expected"):
        kt.RandomSearch(stepped, objective="loss", directory=tmp_path, pruner=MedianPruner)
    with pytest.raises(TypeError, match="ASHAOracle got pruner=MedianPruner"):
        kt.ASHAOracle(LOSS, max_epochs=9, pruner=MedianPruner())


def test_a_custom_pruner_and_the_should_stop_hook_both_stop_trials():
    class AboveOne(Pruner):
        def should_prune(self, trial, step, oracle):
            return kt.pruners.objective_curve(oracle.objective, trial)[step] > 1.0

    class Hook(kt.oracles.RandomSearchOracle):
        def should_stop(self, trial, step):
            return step >= 3

    oracle = Hook(LOSS, pruner=AboveOne())
    assert run_curves(oracle, [[0.5, 2.0, 0.5], [0.5, 0.5, 0.5, 0.5]]) == [2, 3]
    assert repr(AboveOne()) == "AboveOne()"
    assert repr(HyperbandPruner(27)) == "HyperbandPruner(max_resource=27, min_resource=1, factor=3)"


def test_an_oracle_without_a_pruner_never_stops_a_trial():
    oracle = kt.oracles.RandomSearchOracle(LOSS)
    assert oracle.pruner is None
    assert run_curves(oracle, [[1.0, 1.0], [9.0, 9.0], [9.0, 9.0]]) == [2, 2, 2]


@pytest.mark.parametrize(
    "name",
    [
        "tunelab.pruners",
        "tunelab.pruners.base",
        "tunelab.pruners.median",
        "tunelab.pruners.successive_halving",
        "tunelab.pruners.hyperband",
        "tunelab.oracles.asha",
    ],
)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_objective_curve_averages_executions_and_skips_steps_without_the_objective():
    tracker = kt.Trial(kt.HyperParameters()).metrics
    tracker.update("loss", [1.0, 3.0], step=1)
    tracker.update("acc", 0.5, step=2)
    tracker.update("loss", 0.5, step=3)
    assert kt.pruners.objective_curve(LOSS, tracker) == {1: 2.0, 3: 0.5}
    assert np.isnan(kt.pruners.base.best_value([math.nan], "min"))
