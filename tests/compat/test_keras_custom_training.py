"""KerasTuner user code with custom training (``HyperModel.fit`` overrides), run with
``import tunelab as kt``: the expected values are KerasTuner 1.4.8's, observed running the
same code with keras_tuner (Keras 3, TensorFlow)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import tunelab as kt  # noqa: E402

X = np.random.default_rng(0).random((16, 3)).astype("float32")
Y = X.sum(axis=1)


class Uncompiled(kt.HyperModel):
    """build() returns an uncompiled model; fit() compiles it, trains it and returns what
    `returns` says (KerasTuner's documented custom-training pattern)."""

    def __init__(self, returns):
        super().__init__()
        self.returns = returns
        self.seen_compiled = []

    def build(self, hp):
        return keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(hp.Int("units", 1, 4)), keras.layers.Dense(1)]
        )

    def fit(self, hp, model, *args, **kwargs):
        self.seen_compiled.append(model.compiled)
        if not model.compiled:
            model.compile(optimizer="sgd", loss="mse")
        history = model.fit(*args, **kwargs)
        return self.returns(history)


def search(hypermodel, objective="loss", name="p", tmp_path=None, max_trials=1, **kwargs):
    tuner = kt.RandomSearch(
        hypermodel,
        objective=objective,
        max_trials=max_trials,
        seed=0,
        directory=tmp_path,
        project_name=name,
        **kwargs,
    )
    tuner.search(X, Y, epochs=1, verbose=0)
    return tuner


@pytest.mark.parametrize(
    ("name", "returns", "expected"),
    [
        # KerasTuner 1.4.8: each of these makes the trial COMPLETED.
        ("float", lambda h: 0.5, 0.5),
        ("int", lambda h: 3, 3.0),
        ("dict", lambda h: {"loss": 0.25, "other": 1.0}, 0.25),
        ("list", lambda h: [0.1, 0.3], 0.2),  # a list is averaged, as executions are
    ],
)
def test_fit_of_an_uncompiled_model_returns_the_result(tmp_path, name, returns, expected):
    hypermodel = Uncompiled(returns)
    tuner = search(hypermodel, objective="loss", name=name, tmp_path=tmp_path)
    assert hypermodel.seen_compiled == [False]  # the tuner did not compile it
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"]
    # The returned value is recorded under the objective's name (after the epochs' values,
    # which tunelab also records; the score is the best of them).
    for trial in trials:
        assert trial.metrics.get_history("loss")[-1].mean() == pytest.approx(expected)
        assert trial.score <= expected + 1e-9


def test_fit_returning_a_history_or_a_list_of_them(tmp_path):
    tuner = search(Uncompiled(lambda h: [h, h]), tmp_path=tmp_path, max_trials=2)
    trial = tuner.oracle.get_best_trials(1)[0]
    assert trial.status == "COMPLETED"
    assert trial.score == pytest.approx(trial.metrics.get_history("loss")[0].mean())


def test_a_number_from_fit_without_objective_is_default_objective(tmp_path):
    # KerasTuner 1.4.8: metrics {'default_objective': 0.5}, score 0.5, minimized.
    tuner = search(Uncompiled(lambda h: 0.5), objective=None, tmp_path=tmp_path)
    assert tuner.oracle.objective.name == "default_objective"
    assert tuner.oracle.objective.direction == "min"
    trial = tuner.oracle.get_best_trials(1)[0]
    assert trial.score == 0.5
    assert trial.metrics.get_best_value("default_objective") == 0.5


def test_a_number_from_fit_is_default_objective_with_validation_data_too(tmp_path):
    tuner = kt.RandomSearch(
        Uncompiled(lambda h: 0.75), max_trials=1, directory=tmp_path, project_name="val"
    )
    tuner.search(X, Y, epochs=1, validation_data=(X, Y), verbose=0)
    assert tuner.oracle.objective.name == "default_objective"
    assert tuner.oracle.get_best_trials(1)[0].score == 0.75


@pytest.mark.parametrize(
    ("returns", "shown"),
    [
        # KerasTuner 1.4.8 raises FatalTypeError: "Expected the return value of
        # HyperModel.fit() to be one of float, dict, keras.callbacks.History, or a list of
        # one of these types. Recevied return value: bad of type <class 'str'>."
        (lambda h: "bad", r"returned 'bad' \(str\)"),
        (lambda h: [0.5, "bad"], r"item 'bad' \(str\) is not a result"),
        (lambda h: object(), r"returned <object object .*> \(object\)"),
    ],
)
def test_fit_returning_an_unusable_type_stops_the_search(tmp_path, returns, shown):
    hypermodel = Uncompiled(returns)
    with pytest.raises(TypeError, match=shown) as raised:
        search(hypermodel, tmp_path=tmp_path)
    assert "expected a number, a dict of metric name -> number, a keras.callbacks.History" in (
        str(raised.value)
    )
    assert isinstance(raised.value, kt.errors.FatalError)
    assert len(hypermodel.seen_compiled) == 1  # the first trial stopped the search


def test_fit_returning_none_without_training_stops_the_search(tmp_path):
    class Nothing(kt.HyperModel):
        def build(self, hp):
            return keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("u", 1, 2))])

        def fit(self, hp, model, *args, **kwargs):
            return None

    # KerasTuner 1.4.8: FatalTypeError "The return value of HyperModel.fit() is None. Did
    # you forget to return the metrics?"
    with pytest.raises(TypeError, match="returned None.*forget to return the metrics"):
        search(Nothing(), tmp_path=tmp_path)


def test_fit_may_train_any_object(tmp_path):
    class Quadratic:
        def __init__(self, x):
            self.x = x

    class Custom(kt.HyperModel):
        def build(self, hp):
            return Quadratic(hp.Float("x", -1.0, 1.0))

        def fit(self, hp, model, *args, **kwargs):
            return (model.x - 0.5) ** 2

    tuner = kt.Tuner(
        oracle=kt.oracles.RandomSearchOracle(objective="loss", max_trials=3, seed=0),
        hypermodel=Custom(),
        directory=tmp_path,
    )
    tuner.search(X, Y, epochs=1)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 3
    for trial in trials:
        assert trial.score == pytest.approx((trial.hyperparameters.get("x") - 0.5) ** 2)


def test_compile_overrides_apply_when_the_tuner_compiles(tmp_path):
    seen = []

    class Compiled(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [keras.Input((3,)), keras.layers.Dense(hp.Int("u", 1, 2)), keras.layers.Dense(1)]
            )
            model.compile(optimizer="adam", loss="mae", metrics=["mse"])
            return model

        def fit(self, hp, model, *args, **kwargs):
            seen.append((type(model.optimizer).__name__, model.loss))
            return model.fit(*args, **kwargs)

    # KerasTuner 1.4.8 compiles with the tuner's optimizer= before a custom fit: SGD, "mae".
    search(Compiled(), optimizer=keras.optimizers.SGD(0.1), tmp_path=tmp_path, name="o")
    assert seen == [("SGD", "mae")]
    seen.clear()
    # An uncompiled model with the tuner's loss=: compiled by the tuner (optimizer Adam).
    hypermodel = Uncompiled(lambda h: h)
    search(hypermodel, loss="mse", tmp_path=tmp_path, name="l")
    assert hypermodel.seen_compiled == [True]
    # Without loss= the tuner cannot compile it: a custom fit gets it uncompiled.
    hypermodel = Uncompiled(lambda h: h)
    tuner = search(hypermodel, metrics=["mae"], tmp_path=tmp_path, name="m")
    assert hypermodel.seen_compiled == [False]
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]


def test_tuner_attributes(tmp_path):
    def build(hp):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("u", 1, 2))])
        model.compile(loss="mse")
        return model

    # KerasTuner 1.4.8: None for what was not given.
    tuner = kt.RandomSearch(build, objective="loss", max_trials=1, directory=tmp_path)
    assert (tuner.optimizer, tuner.loss, tuner.metrics) == (None, None, None)
    assert (tuner.max_model_size, tuner.distribution_strategy) == (None, None)
    tuner = kt.Tuner(
        oracle=kt.oracles.RandomSearchOracle(objective="loss", max_trials=1),
        hypermodel=build,
        optimizer="adam",
        loss="mse",
        metrics=["mae"],
        executions_per_trial=2,
        directory=tmp_path,
        project_name="tuner",
    )
    # KerasTuner 1.4.8: adam mse ['mae'] 2
    assert (tuner.optimizer, tuner.loss, tuner.metrics) == ("adam", "mse", ["mae"])
    assert tuner.executions_per_trial == 2
