"""The tuner as KerasTuner users read it: the space right after construction, attributes,
and `trial.summary()`.

Expected values are KerasTuner 1.4.8's, observed by running the same code with
``import keras_tuner as kt`` (engine/base_tuner.py `_populate_initial_space`).
"""

import pytest

import tunelab as kt


class MyHyperModel(kt.HyperModel):
    """Counts its builds; one hyperparameter is registered only when `kind` is "deep"."""

    def __init__(self):
        super().__init__()
        self.builds = []

    def build(self, hp):
        self.builds.append(dict(hp.values))
        units = hp.Int("units", 1, 5)
        kind = hp.Choice("kind", ["wide", "deep"])
        with hp.conditional_scope("kind", "deep"):
            if kind == "deep":
                hp.Float("dropout", 0.0, 0.5)
        rate = hp.Float("rate", 0.0, 1.0, default=0.3)
        return units + rate


class Evaluating(kt.RandomSearch):
    def run_trial(self, trial, *args, **kwargs):
        return float(self.hypermodel.build(trial.hyperparameters))


def test_the_space_is_known_right_after_the_constructor(tmp_path, capsys):
    hypermodel = MyHyperModel()
    tuner = Evaluating(
        hypermodel=hypermodel, max_trials=3, seed=3, directory=tmp_path, project_name="p"
    )
    # KerasTuner 1.4.8 builds twice: with the defaults, then with kind="deep" to enter the
    # scope the defaults leave inactive.
    assert len(hypermodel.builds) == 2
    space = tuner.oracle.get_space()
    assert [hp.name for hp in space.space] == ["units", "kind", "rate", "dropout"]
    assert space.values == {"units": 1, "kind": "wide", "rate": 0.3}
    tuner.search_space_summary()
    assert "Default search space size: 4" in capsys.readouterr().out

    tuner.search(verbose=0)
    # KerasTuner 1.4.8: the space's values are still the defaults of the active entries.
    assert tuner.oracle.get_space().values == {"units": 1, "kind": "wide", "rate": 0.3}


def test_a_static_space_stays_as_given(tmp_path):
    hp = kt.HyperParameters()
    hp.Int("units", 1, 3)
    tuner = Evaluating(
        hypermodel=MyHyperModel(),
        hyperparameters=hp,
        tune_new_entries=False,
        max_trials=2,
        seed=0,
        directory=tmp_path,
        project_name="static",
    )
    assert [d.name for d in tuner.oracle.hyperparameters.space] == ["units"]
    tuner.search(verbose=0)
    assert [d.name for d in tuner.oracle.hyperparameters.space] == ["units"]
    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        assert (values["kind"], values["rate"]) == ("wide", 0.3)  # untuned: the defaults


def test_allow_new_entries_false_refuses_unknown_names(tmp_path):
    hp = kt.HyperParameters()
    hp.Int("units", 1, 3)
    tuner = Evaluating(
        hypermodel=MyHyperModel(),
        hyperparameters=hp,
        allow_new_entries=False,
        max_trials=2,
        directory=tmp_path,
        project_name="closed",
    )
    # KerasTuner 1.4.8 raises RuntimeError naming the new entries (there, from the
    # constructor; here from search(), where a function objective's names are known too).
    with pytest.raises(RuntimeError, match=r"allow_new_entries=False.*'kind', 'rate'"):
        tuner.search(verbose=0)
    assert len(tuner.oracle.trials) == 0


def test_a_build_that_fails_at_construction_raises_its_error(tmp_path):
    class Broken(kt.HyperModel):
        def build(self, hp):
            hp.Int("units", 1, 2)
            raise ValueError("no model for you")

    # KerasTuner 1.4.8 raises the build's own ValueError from the constructor.
    with pytest.raises(ValueError, match="no model for you"):
        Evaluating(hypermodel=Broken(), max_trials=1, directory=tmp_path, project_name="b")


def test_a_function_objective_does_not_run_at_construction(tmp_path):
    calls = []

    def objective(hp):
        calls.append(1)
        return hp.Float("x", 0.0, 1.0)

    tuner = kt.RandomSearch(objective, max_trials=2, directory=tmp_path, project_name="f")
    assert calls == []  # it may train: it runs in trials, or when its space is asked for
    tuner.search(verbose=0)
    assert len(calls) == 2
    assert [hp.name for hp in tuner.oracle.get_space().space] == ["x"]
    assert len(calls) == 2


def test_a_function_is_built_once_when_its_space_is_asked_for_before_search(tmp_path):
    calls = []

    def build_model(hp):
        calls.append(1)
        return hp.Int("units", 8, 64, step=8)

    tuner = kt.RandomSearch(build_model, max_trials=2, directory=tmp_path, project_name="f")
    space = tuner.oracle.get_space()
    assert [hp.name for hp in space.space] == ["units"]
    assert space.values == {"units": 8}
    tuner.oracle.get_space()
    assert len(calls) == 1
    tuner.search(verbose=0)
    assert len(calls) == 3


def test_remaining_trials_and_executions_per_trial(tmp_path):
    class Squares(kt.GridSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Choice("x", [0.5, 2.0])
            return x * x

    tuner = Squares(max_trials=2, directory=tmp_path, project_name="grid")
    assert (tuner.remaining_trials, tuner.executions_per_trial) == (2, 1)  # KerasTuner 1.4.8
    tuner.search(verbose=0)
    assert tuner.remaining_trials == 0
    unbounded = Squares(directory=tmp_path, project_name="unbounded")
    assert unbounded.remaining_trials is None


def test_trial_summary_prints_as_kerastuner(tmp_path, capsys):
    class Squares(kt.GridSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Choice("x", [0.5, 2.0])
            return x * x

    tuner = Squares(max_trials=2, directory=tmp_path, project_name="summary")
    tuner.search(verbose=0)
    capsys.readouterr()
    assert tuner.oracle.get_best_trials(1)[0].summary() is None
    # KerasTuner 1.4.8's output, character for character.
    assert capsys.readouterr().out == "Trial 0 summary\nHyperparameters:\nx: 0.5\nScore: 0.25\n"

    class Constant(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return 1.0

    tuner = Constant(max_trials=1, directory=tmp_path, project_name="constant")
    tuner.search(verbose=0)
    capsys.readouterr()
    tuner.oracle.get_best_trials(1)[0].summary()
    assert capsys.readouterr().out == (
        "Trial 0 summary\nHyperparameters:\ndefault configuration\nScore: 1.0\n"
    )
