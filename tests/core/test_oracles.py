"""Random and grid oracles: seeds, no repeats, exhaustion, conditions, enqueued trials, designs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tunelab as kt
from tunelab.oracles.designs import design_points


def _space():
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Int("units", 16, 256, step=16)
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", ["b"]):
        hp.Float("momentum", 0.0, 0.9)
    return hp


def _asked_values(oracle, n):
    out = []
    for _ in range(n):
        trial = oracle.ask()
        if trial is None:
            break
        out.append(dict(trial.hyperparameters.values))
        oracle.tell(trial, float(len(out)))
    return out


def test_same_seed_same_sequence_and_different_seed_differs():
    a = _asked_values(kt.oracles.RandomSearchOracle("loss", 20, _space(), seed=3), 20)
    b = _asked_values(kt.oracles.RandomSearchOracle("loss", 20, _space(), seed=3), 20)
    c = _asked_values(kt.oracles.RandomSearchOracle("loss", 20, _space(), seed=4), 20)
    assert a == b
    assert a != c
    assert len(a) == 20


def test_random_values_respect_ranges_and_conditions():
    values = _asked_values(kt.oracles.RandomSearchOracle("loss", 60, _space(), seed=0), 60)
    kinds = {v["kind"] for v in values}
    assert kinds == {"a", "b"}
    for v in values:
        assert 1e-4 <= v["lr"] <= 1e-1
        assert v["units"] % 16 == 0 and 16 <= v["units"] <= 256
        assert ("momentum" in v) == (v["kind"] == "b")
    # log sampling: about half of the draws below the geometric middle 10^-2.5
    below = np.mean([v["lr"] < 10**-2.5 for v in values])
    assert 0.3 < below < 0.7


def test_random_search_never_repeats_and_exhausts_a_small_space_with_a_message(capsys):
    hp = kt.HyperParameters()
    hp.Choice("a", [1, 2, 3])
    hp.Boolean("b")
    oracle = kt.oracles.RandomSearchOracle("loss", 50, hp, seed=1)
    values = _asked_values(oracle, 50)
    assert len(values) == 6
    assert len({tuple(sorted(v.items())) for v in values}) == 6
    assert "exhausted after 6 trials" in capsys.readouterr().out
    assert oracle.ask() is None


def test_grid_search_order_conditions_and_exhaustion(capsys):
    hp = kt.HyperParameters()
    hp.Choice("model", ["rf", "ridge"])
    with hp.conditional_scope("model", "rf"):
        hp.Int("trees", 10, 30, step=10)
    with hp.conditional_scope("model", "ridge"):
        hp.Boolean("fit_intercept")
    oracle = kt.oracles.GridSearchOracle(objective="loss", hyperparameters=hp)
    values = _asked_values(oracle, 100)
    assert values == [
        {"model": "rf", "trees": 10},
        {"model": "rf", "trees": 20},
        {"model": "rf", "trees": 30},
        {"model": "ridge", "fit_intercept": False},
        {"model": "ridge", "fit_intercept": True},
    ]
    assert "exhausted after 5 trials" in capsys.readouterr().out


def test_grid_search_takes_a_continuous_float_at_its_default_and_ten_spaced_values():
    hp = kt.HyperParameters()
    hp.Float("lr", 0.0, 1.0)
    oracle = kt.oracles.GridSearchOracle(objective="loss", hyperparameters=hp)
    values = [v["lr"] for v in _asked_values(oracle, 100)]
    assert values[0] == 0.0 and len(values) == 11
    assert sorted(values[1:]) == pytest.approx([0.05 + 0.1 * i for i in range(10)])


def test_grid_search_with_define_by_run_space(tmp_path):
    def fn(hp):
        return hp.Int("a", 1, 2) * 10 + hp.Choice("b", [1, 2, 3])

    tuner = kt.GridSearch(fn, objective="loss", directory=tmp_path, project_name="grid_dbr")
    tuner.search(verbose=0)
    seen = [t.hyperparameters.values for t in tuner.oracle.trials.values()]
    assert len(seen) == 6
    assert {(v["a"], v["b"]) for v in seen} == {(a, b) for a in (1, 2) for b in (1, 2, 3)}
    assert tuner.oracle.get_best_trials(1)[0].score == 11.0


def test_enqueued_trials_go_first_partial_values_completed_and_validated():
    oracle = kt.oracles.RandomSearchOracle("loss", 10, _space(), seed=0)
    assert oracle.enqueue_trial({"units": 64, "kind": "a"}) is True
    assert oracle.enqueue_trial({"units": 64, "kind": "a"}) is False  # same values: skipped
    first = oracle.ask()
    assert first.hyperparameters.values["units"] == 64
    assert first.hyperparameters.values["kind"] == "a"
    assert 1e-4 <= first.hyperparameters.values["lr"] <= 1e-1
    with pytest.raises(
        ValueError,
        match=r"value 1000 for Int hyperparameter 'units' is not in "
        r"its space: expected a int in \[16, 256\] with step 16",
    ):
        oracle.enqueue_trial({"units": 1000})
    strict = kt.oracles.RandomSearchOracle("loss", 10, _space(), allow_new_entries=False)
    with pytest.raises(ValueError, match="'dropout' is not a hyperparameter of this search"):
        strict.enqueue_trial({"dropout": 0.5})


def test_initial_trials_from_csv_and_list(tmp_path):
    path = tmp_path / "known.csv"
    path.write_text("lr,units,kind\n0.001,64,a\n0.01,128,b\n")
    oracle = kt.oracles.RandomSearchOracle("loss", 5, _space(), seed=0, initial_trials=path)
    values = _asked_values(oracle, 2)
    assert values[0] == {"lr": 0.001, "units": 64, "kind": "a"}
    assert values[1]["lr"] == 0.01 and values[1]["units"] == 128 and values[1]["kind"] == "b"
    assert 0.0 <= values[1]["momentum"] <= 0.9
    listed = kt.oracles.RandomSearchOracle(
        "loss", 5, _space(), seed=0, initial_trials=[{"units": 32}]
    )
    assert listed.ask().hyperparameters.values["units"] == 32
    with pytest.raises(ValueError, match="no such CSV file"):
        kt.oracles.RandomSearchOracle("loss", 5, initial_trials=str(tmp_path / "missing.csv"))


def test_initial_trials_are_not_enqueued_again_on_resume(tmp_path):
    kwargs = dict(
        objective="loss",
        max_trials=4,
        hyperparameters=_space(),
        seed=0,
        initial_trials=[{"units": 32, "kind": "a"}],
        directory=tmp_path,
        project_name="p",
    )
    first = kt.oracles.RandomSearchOracle(**kwargs)
    _asked_values(first, 2)
    again = kt.oracles.RandomSearchOracle(**kwargs)
    rest = _asked_values(again, 10)
    assert len(rest) == 2
    assert sum(v["units"] == 32 and v["kind"] == "a" for v in rest) == 0


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_initial_design_spreads_points(design):
    points = design_points(design, 16, 3, seed=1)
    assert points.shape == (16, 3)
    # every one of 16 equal bins of each coordinate holds exactly one point (LHS), or at
    # most two (Sobol's balance in base 2 gives exactly one per bin for 16 = 2^4 points)
    for column in points.T:
        counts = np.bincount((column * 16).astype(int), minlength=16)
        assert counts.max() == 1
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = kt.oracles.RandomSearchOracle(
        "loss", 16, hp, seed=1, initial_design=design, num_initial_points=16
    )
    xs = [v["x"] for v in _asked_values(oracle, 16)]
    assert np.bincount((np.array(xs) * 16).astype(int), minlength=16).max() == 1


def test_bad_oracle_arguments():
    with pytest.raises(ValueError, match=r"max_trials=0; expected an int >= 1 or None"):
        kt.oracles.RandomSearchOracle("loss", 0)
    with pytest.raises(ValueError, match="initial_design='grid'"):
        kt.oracles.RandomSearchOracle("loss", 5, initial_design="grid")
    with pytest.raises(TypeError, match="expected a kt.HyperParameters"):
        kt.oracles.RandomSearchOracle("loss", 5, hyperparameters={"a": 1})
    with pytest.raises(ValueError, match="cannot tell whether to minimize or maximize"):
        kt.oracles.RandomSearchOracle("banana_metric", 5)


def test_objective_inference():
    assert kt.Objective("val_accuracy", "max") == kt.oracles.Oracle("val_accuracy").objective
    assert kt.oracles.Oracle("val_loss").objective.direction == "min"
    assert kt.oracles.Oracle("auc").objective.direction == "max"
    assert kt.oracles.Oracle("mean_squared_error").objective.direction == "min"
    assert kt.oracles.Oracle("neg_mean_squared_error").objective.direction == "max"
    multi = kt.oracles.Oracle(["val_loss", kt.Objective("val_accuracy", "max")]).objective
    assert multi.names == ["val_loss", "val_accuracy"]
    assert repr(kt.Objective("val_accuracy", "max")) == (
        'Objective(name="val_accuracy", direction="max")'
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_oracle_never_proposes_an_out_of_space_value(seed):
    space = _space()
    oracle = kt.oracles.RandomSearchOracle("loss", 5, space, seed=seed)
    for values in _asked_values(oracle, 5):
        for definition in space.space:
            if definition.name in values:
                assert definition.contains(values[definition.name])
