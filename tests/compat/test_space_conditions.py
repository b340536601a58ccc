"""Conditional search spaces as KerasTuner code writes them, with `import tunelab as kt`.

Expected values are KerasTuner 1.4.8's, observed by running the same code against it.
"""

from __future__ import annotations

import pytest

import tunelab as kt
from tunelab.hyperparameters import Parent


def build_two_models(hp):
    """The same name, `units`, under two conditional scopes with different ranges."""
    model = hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["mlp"]):
        mlp_units = hp.Int("units", 8, 16)
    with hp.conditional_scope("model", ["cnn"]):
        cnn_units = hp.Int("units", 100, 200, step=50)
    units = hp.get("units")
    # The build sees the value of the active definition only.
    assert (mlp_units if model == "mlp" else cnn_units) == units
    assert (cnn_units if model == "mlp" else mlp_units) is None
    return {"loss": abs(units - 150) / 150}


def test_same_name_under_other_conditions_is_a_distinct_entry():
    hp = kt.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["mlp"]):
        assert hp.Int("units", 8, 16) == 8
    with hp.conditional_scope("model", ["cnn"]):
        assert hp.Int("units", 100, 200, step=50) is None
    # KerasTuner 1.4.8: three entries, two named "units" with their own conditions.
    assert [p.name for p in hp.space] == ["model", "units", "units"]
    assert [[c.values for c in p.conditions] for p in hp.space] == [[], [["mlp"]], [["cnn"]]]
    assert hp.get("units") == 8 and hp["units"] == 8
    assert hp.values == {"model": "mlp", "units": 8}
    assert hp.is_active("units")


def test_parent_name_and_parent_values_make_distinct_entries_too():
    hp = kt.HyperParameters()
    hp.Choice("optimizer", ["adam", "sgd"], default="sgd")
    assert hp.Float("lr", 1e-4, 1e-2, parent_name="optimizer", parent_values=["adam"]) is None
    assert hp.Float("lr", 0.01, 0.1, parent_name="optimizer", parent_values="sgd") == 0.01
    assert len(hp.space) == 3
    assert hp.get("lr") == 0.01


def test_reading_an_inactive_hyperparameter_raises_as_keras_tuner():
    hp = kt.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    # KerasTuner 1.4.8: registering in an inactive scope returns None and sets no value.
    assert hp.Int("depth", 1, 3, parent_name="model", parent_values=["cnn"]) is None
    assert hp.values == {"model": "mlp"}
    # KerasTuner 1.4.8: ValueError "depth is currently inactive.", KeyError for an unknown name.
    with pytest.raises(ValueError, match="'depth' is currently inactive"):
        hp.get("depth")
    with pytest.raises(ValueError, match="inactive"):
        hp["depth"]
    with pytest.raises(KeyError, match="'nope' is not a registered hyperparameter"):
        hp.get("nope")
    # `in` tells whether a name has a value now: KerasTuner 1.4.8 gives False, False, True.
    assert ("depth" in hp, "nope" in hp, "model" in hp) == (False, False, True)
    assert not hp.is_active("depth")


def test_parent_conditions_check_and_normalize_their_values():
    # KerasTuner 1.4.8: the first value sets the type of the others.
    assert Parent("m", ["a", 1]).values == ["a", "1"]
    assert Parent("m", [1, "2"]).values == [1, 2]
    assert Parent("m", [1.5, 2]).values == [1.5, 2]
    assert Parent("m", [True, 0]).values == [True, 0]
    assert Parent("m", "x").values == ["x"] and Parent("m", 3).values == [3]
    # KerasTuner 1.4.8 raises TypeError for values that are not int, float, str or bool,
    # and ValueError for a value that is not an integer after an integer.
    with pytest.raises(TypeError, match=r"holds None of type NoneType; expected int"):
        Parent("m", [None])
    with pytest.raises(TypeError, match="holds \\[1\\] of type list"):
        Parent("m", [[1]])
    with pytest.raises(ValueError, match="mix integers with values that are not integers"):
        Parent("m", [1, "x"])
    # KerasTuner 1.4.8 fails with an IndexError here; ours says what is wrong.
    with pytest.raises(ValueError, match="parent_values is empty"):
        Parent("m", [])


def test_scope_errors_name_the_parent():
    hp = kt.HyperParameters()
    hp.Choice("model", ["a", "b"])
    # KerasTuner 1.4.8: ValueError for an unknown parent and for a child named as its parent.
    missing = "parent hyperparameter 'missing' is not registered"
    with pytest.raises(ValueError, match=missing), hp.conditional_scope("missing", ["a"]):
        pass
    with (
        pytest.raises(ValueError, match="cannot have the name of its parent"),
        hp.conditional_scope("model", ["a"]),
    ):
        hp.Int("model", 1, 2)


def test_a_search_over_same_name_entries_gives_each_trial_the_active_definition(tmp_path):
    # (KerasTuner 1.4.8 fails such trials with KeyError 'units': its oracle drops the value
    # of the active entry when it meets the inactive one of the same name.)
    tuner = kt.RandomSearch(
        build_two_models, objective="loss", max_trials=8, seed=3, directory=tmp_path
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 8 and all(t.status == "COMPLETED" for t in trials)
    for trial in trials:
        values = trial.hyperparameters.values
        if values["model"] == "mlp":
            assert 8 <= values["units"] <= 16
        else:
            assert values["units"] in (100, 150, 200)
    assert {t.hyperparameters.values["model"] for t in trials} == {"mlp", "cnn"}
    space = tuner.oracle.get_space().space
    assert [p.name for p in space] == ["model", "units", "units"]
    best = tuner.get_best_hyperparameters()[0]
    assert best.values == {"model": "cnn", "units": 150}


def test_the_summary_lists_each_entry_as_keras_tuner(tmp_path, capsys):
    tuner = kt.RandomSearch(build_two_models, objective="loss", max_trials=1, directory=tmp_path)
    tuner.search(verbose=0)
    capsys.readouterr()
    tuner.search_space_summary()
    # KerasTuner 1.4.8's search_space_summary() of this space, line for line.
    assert capsys.readouterr().out == (
        "Search space summary\n"
        "Default search space size: 3\n"
        "model (Choice)\n"
        "{'default': 'mlp', 'conditions': [], 'values': ['mlp', 'cnn'], 'ordered': False}\n"
        "units (Int)\n"
        "{'default': None, 'conditions': [{'class_name': 'Parent', 'config': {'name': 'model', "
        "'values': ['mlp']}}], 'min_value': 8, 'max_value': 16, 'step': 1, "
        "'sampling': 'linear'}\n"
        "units (Int)\n"
        "{'default': None, 'conditions': [{'class_name': 'Parent', 'config': {'name': 'model', "
        "'values': ['cnn']}}], 'min_value': 100, 'max_value': 200, 'step': 50, "
        "'sampling': 'linear'}\n"
    )


def build_pooling(hp):
    pooling = hp.Choice("pooling", ["avg", "max", "flatten"])
    units = hp.Int("units", 1, 5)
    return {"loss": float(units) + (0.5 if pooling == "flatten" else 0.0)}


def test_hyperparameters_given_override_the_hypermodel_definition(tmp_path):
    # KerasTuner 1.4.8: a name registered again under the same conditions returns the value
    # of the first definition, so `hyperparameters=` (registered first) wins.
    hp = kt.HyperParameters()
    hp.Choice("pooling", ["flatten"])
    tuner = kt.RandomSearch(
        build_pooling,
        hyperparameters=hp,
        objective="loss",
        max_trials=3,
        seed=1,
        directory=tmp_path,
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 3
    assert {t.hyperparameters.values["pooling"] for t in trials} == {"flatten"}
    pooling = [p for p in tuner.oracle.get_space().space if p.name == "pooling"]
    assert len(pooling) == 1 and pooling[0].values == ["flatten"]


def test_a_second_definition_in_one_build_returns_the_first_value():
    hp = kt.HyperParameters()
    # KerasTuner 1.4.8 returns 8 for each of these and keeps one entry.
    assert hp.Int("u", 8, 64) == 8
    assert hp.Int("u", 8, 128, default=100) == 8
    assert hp.Float("u", 0.5, 1.0) == 8
    assert hp.Choice("u", ["x"]) == 8
    assert len(hp.space) == 1


@pytest.mark.slow  # imports TensorFlow
def test_hyper_xception_takes_a_pooling_given_in_hyperparameters():
    pytest.importorskip("keras")
    # The case of the issue: KerasTuner 1.4.8 builds HyperXception with the pre-registered
    # pooling and keeps one "pooling" entry, with the user's values.
    hp = kt.HyperParameters()
    hp.Choice("pooling", ["flatten"])
    hypermodel = kt.applications.HyperXception(input_shape=(32, 32, 3), classes=2)
    hypermodel.build(hp)
    assert hp.values["pooling"] == "flatten"
    assert [p.values for p in hp.space if p.name == "pooling"] == [["flatten"]]


def test_ensure_active_values_fills_the_active_and_drops_the_inactive():
    hp = kt.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["mlp"]):
        hp.Int("units", 8, 16)
    with hp.conditional_scope("model", ["cnn"]):
        hp.Int("filters", 100, 200, step=50)
    hp.values["model"] = "cnn"
    # KerasTuner 1.4.8: "units" is dropped, "filters" gets a value of its space.
    hp.ensure_active_values()
    assert sorted(hp.values) == ["filters", "model"]
    assert hp.values["filters"] in (100, 150, 200)


def test_enqueued_values_may_belong_to_any_definition_of_a_name(tmp_path):
    tuner = kt.RandomSearch(
        build_two_models, objective="loss", max_trials=2, seed=3, directory=tmp_path
    )
    tuner.search(verbose=0)  # the space now holds both "units" entries
    tuner.oracle.enqueue_trial({"model": "cnn", "units": 150})
    with pytest.raises(ValueError, match="value 300 for Int hyperparameter 'units'"):
        tuner.oracle.enqueue_trial({"model": "cnn", "units": 300})
    tuner.oracle.max_trials = 3
    tuner.search(verbose=0)
    last = max(tuner.oracle.trials.values(), key=lambda t: int(t.trial_id))
    assert last.hyperparameters.values == {"model": "cnn", "units": 150}


def test_a_resumed_search_keeps_both_entries_and_reports_no_change(tmp_path, capsys):
    def run(max_trials):
        tuner = kt.RandomSearch(
            build_two_models,
            objective="loss",
            max_trials=max_trials,
            seed=3,
            directory=tmp_path,
            project_name="resume",
        )
        tuner.search(verbose=0)
        return tuner

    run(3)
    capsys.readouterr()
    tuner = run(6)
    assert "differs" not in capsys.readouterr().out
    assert len(tuner.oracle.trials) == 6
    assert [p.name for p in tuner.oracle.get_space().space] == ["model", "units", "units"]
