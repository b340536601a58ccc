"""The tuner loop: function objectives, run_trial results, failures, summaries, plugins."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

import tunelab as kt


def quadratic(hp):
    x = hp.Float("x", -5.0, 5.0)
    y = hp.Int("y", -3, 3)
    return (x - 1.0) ** 2 + (y + 1) ** 2


def test_function_objective_search_and_best(tmp_path):
    tuner = kt.RandomSearch(
        quadratic,
        objective=kt.Objective("loss", "min"),
        max_trials=30,
        seed=2,
        directory=tmp_path,
        project_name="q",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 30
    assert all(t.status == kt.TrialStatus.COMPLETED for t in trials)
    best = tuner.get_best_trials(1)[0]
    assert best.score == min(t.score for t in trials)
    values = tuner.get_best_hyperparameters()[0].values
    assert best.score == pytest.approx((values["x"] - 1) ** 2 + (values["y"] + 1) ** 2)
    assert best.score < 1.0  # 30 random trials find the basin


def test_search_arguments_are_passed_to_the_function(tmp_path):
    seen = []

    def fn(hp, data, scale=1.0):
        seen.append((len(data), scale))
        return scale * sum(data) * hp.Float("w", 0.0, 1.0)

    tuner = kt.RandomSearch(
        fn, objective="loss", max_trials=3, directory=tmp_path, project_name="args"
    )
    tuner.search([1, 2, 3], scale=2.0, verbose=0)
    assert seen == [(3, 2.0)] * 3


def test_dict_and_list_results_average_executions(tmp_path):
    def fn(hp):
        x = hp.Float("x", 0.0, 1.0)
        return [{"val_loss": x, "acc": 1.0}, {"val_loss": x + 1.0, "acc": 0.0}]

    tuner = kt.RandomSearch(
        fn, objective="val_loss", max_trials=2, directory=tmp_path, project_name="lists"
    )
    tuner.search(verbose=0)
    trial = tuner.oracle.get_best_trials(1)[0]
    x = trial.hyperparameters.values["x"]
    assert trial.score == pytest.approx(x + 0.5)
    assert trial.metrics.get_history("val_loss")[0].value == pytest.approx([x, x + 1.0])
    assert trial.metrics.get_best_value("acc") == pytest.approx(0.5)
    # seed 003's way of reading a metric
    assert trial.metrics.metrics["val_loss"].value[0] == pytest.approx(x)


class ReportingTuner(kt.BaseTuner):
    """KerasTuner-style subclass: run_trial reports with update_trial and returns None."""

    def run_trial(self, trial, steps):
        hp = trial.hyperparameters
        rate = hp.Float("rate", 0.1, 0.9)
        for step in range(steps):
            self.oracle.update_trial(trial.trial_id, {"loss": (1 - rate) ** (step + 1)}, step=step)


def test_subclass_with_update_trial_and_best_step(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=3, seed=1)
    tuner = ReportingTuner(oracle, directory=tmp_path, project_name="sub")
    tuner.search(4)
    for trial in tuner.oracle.trials.values():
        rate = trial.hyperparameters.values["rate"]
        assert trial.best_step == 3
        assert trial.score == pytest.approx((1 - rate) ** 4)
        assert len(trial.metrics.get_history("loss")) == 4


def test_no_hypermodel_and_no_run_trial_is_a_clear_error():
    with pytest.raises(ValueError, match="RandomSearch needs a hypermodel"):
        kt.RandomSearch(objective="loss")
    with pytest.raises(TypeError, match="expected a kt.HyperModel or a function"):
        kt.RandomSearch(42, objective="loss")


def test_unknown_tuner_argument_is_rejected(tmp_path):
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['max_trail'\]"):
        kt.RandomSearch(quadratic, objective="loss", max_trail=3, directory=tmp_path)


def test_failing_trial_is_failed_with_traceback_and_search_goes_on(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 9)
        if x % 2:
            raise RuntimeError(f"odd x={x}")
        return float(x)

    tuner = kt.RandomSearch(
        fn,
        objective="loss",
        max_trials=10,
        seed=0,
        max_consecutive_failed_trials=None,
        directory=tmp_path,
        project_name="fail",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    failed = [t for t in trials if t.status == kt.TrialStatus.FAILED]
    done = [t for t in trials if t.status == kt.TrialStatus.COMPLETED]
    assert len(trials) == 10 and failed and done
    for t in failed:
        assert "RuntimeError: odd x=" in t.message and "Traceback" in t.message
        assert t.hyperparameters.values["x"] % 2 == 1


def test_retries_run_the_same_trial_again(tmp_path):
    calls = []

    def flaky(hp):
        x = hp.Int("x", 0, 100)
        calls.append(x)
        if calls.count(x) < 3:
            raise OSError("transient")
        return float(x)

    tuner = kt.RandomSearch(
        flaky,
        objective="loss",
        max_trials=2,
        seed=0,
        max_retries_per_trial=2,
        directory=tmp_path,
        project_name="retry",
    )
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    assert [t.retries for t in trials] == [2, 2]
    assert len(calls) == 6 and calls[0] == calls[1] == calls[2]


def test_consecutive_failures_stop_with_the_first_traceback(tmp_path):
    def broken(hp):
        hp.Int("x", 0, 100)
        raise ValueError("bad model config")

    tuner = kt.RandomSearch(
        broken,
        objective="loss",
        max_trials=10,
        max_consecutive_failed_trials=3,
        directory=tmp_path,
        project_name="broken",
    )
    with pytest.raises(kt.errors.TooManyFailedTrialsError) as info:
        tuner.search(verbose=0)
    text = str(info.value)
    assert "3 trials failed in a row" in text
    assert "ValueError: bad model config" in text and "trial 0" in text
    assert "tuner.oracle.get_trial(" in text and "The failed trials: [" in text
    assert len(tuner.oracle.trials) == 3


def test_nan_and_inf_are_invalid_never_best(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 3)
        return [math.nan, math.inf, 5.0, 7.0][x]

    tuner = kt.GridSearch(fn, objective="loss", directory=tmp_path, project_name="nan")
    tuner.search(verbose=0)
    statuses = {t.hyperparameters.values["x"]: t.status for t in tuner.oracle.trials.values()}
    assert statuses == {0: "INVALID", 1: "INVALID", 2: "COMPLETED", 3: "COMPLETED"}
    assert tuner.oracle.get_best_trials(4)[0].score == 5.0
    assert len(tuner.oracle.get_best_trials(4)) == 2


def test_wrong_result_type_stops_the_search_without_recording_a_trial(tmp_path):
    # Neither a result nor a model: every trial would fail the same way, so the search
    # stops at once and the trial goes back to the oracle instead of a string of FAILED.
    tuner = kt.RandomSearch(
        lambda hp: hp.Float("x", 0.0, 1.0) and "oops",
        objective="loss",
        max_trials=3,
        directory=tmp_path,
        project_name="type",
    )
    with pytest.raises(TypeError, match="returned a builtins.str, which no installed backend"):
        tuner.search(verbose=0)
    with pytest.raises(kt.errors.NotAModelError):
        tuner.search(verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["IDLE"]


def test_a_misspelled_objective_stops_the_search_at_the_first_trial(tmp_path):
    calls = []

    def train(hp):
        calls.append(1)
        return {"val_loss": hp.Float("x", 0.0, 1.0), "loss": 0.5, "accuracy": 0.9}

    def tuner(objective):
        return kt.RandomSearch(
            train, objective=objective, max_trials=3, directory=tmp_path, project_name="typo"
        )

    with pytest.raises(
        kt.errors.ObjectiveNotReportedError,
        match=r"objective 'val_los' is not among the results of trial '0': accuracy, loss, "
        r"val_loss — did you mean 'val_loss'\?",
    ):
        tuner(kt.Objective("val_los", "min")).search(verbose=0)
    assert len(calls) == 1  # one training, not max_trials of them
    fixed = tuner("val_loss")
    assert [t.status for t in fixed.oracle.trials.values()] == ["IDLE"]  # runs again
    fixed.search(verbose=0)
    trials = list(fixed.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 3 and len(calls) == 4
    assert trials[0].score == trials[0].hyperparameters.get("x")


def test_a_result_without_the_objective_after_others_had_it_fails_that_trial(tmp_path):
    def train(hp):
        x = hp.Float("x", 0.0, 1.0)
        return {"val_loss": x} if hp.Boolean("report") else {"acc": x}

    tuner = kt.RandomSearch(
        train, objective="val_loss", max_trials=6, directory=tmp_path, project_name="some",
        initial_trials=[{"report": True}], max_consecutive_failed_trials=None,
    )  # fmt: skip
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert trials[0].status == "COMPLETED" and len(trials) == 6
    for trial in trials[1:]:
        reported = trial.hyperparameters.get("report")
        assert trial.status == ("COMPLETED" if reported else "FAILED")
        if not reported:
            assert "objective 'val_loss' is not among the results of trial" in trial.message


def test_an_unknown_direction_suggests_a_known_metric():
    with pytest.raises(
        ValueError, match=r"objective='val_accuarcy': cannot tell .* did you mean 'val_accuracy'\?"
    ):
        kt.RandomSearch(lambda hp: 1.0, objective="val_accuarcy")


def test_hooks_are_called_in_order(tmp_path):
    events = []

    class Hooked(kt.RandomSearch):
        def on_search_begin(self):
            events.append("search_begin")

        def on_trial_begin(self, trial):
            events.append(f"begin {trial.trial_id}")

        def on_trial_end(self, trial):
            events.append(f"end {trial.trial_id} {trial.status}")

        def on_search_end(self):
            events.append("search_end")

    Hooked(
        quadratic, objective="loss", max_trials=2, directory=tmp_path, project_name="hooks"
    ).search(verbose=0)
    assert events == [
        "search_begin",
        "begin 0",
        "end 0 COMPLETED",
        "begin 1",
        "end 1 COMPLETED",
        "search_end",
    ]


def test_search_space_summary_format(tmp_path, capsys):
    tuner = kt.RandomSearch(
        quadratic, objective="loss", max_trials=1, directory=tmp_path, project_name="summary"
    )
    tuner.search_space_summary()
    assert capsys.readouterr().out == (
        "Search space summary\n"
        "Default search space size: 2\n"
        "x (Float)\n"
        "{'default': -5.0, 'conditions': [], 'min_value': -5.0, 'max_value': 5.0, "
        "'step': None, 'sampling': 'linear'}\n"
        "y (Int)\n"
        "{'default': None, 'conditions': [], 'min_value': -3, 'max_value': 3, 'step': 1, "
        "'sampling': 'linear'}\n"
    )
    assert tuner.oracle.trials == {}  # finding the space ran no trial


def test_results_summary_format(tmp_path, capsys):
    def fn(hp):
        return {"val_accuracy": hp.Choice("units", [48, 32, 64]) / 64}

    tuner = kt.GridSearch(fn, objective="val_accuracy", directory=tmp_path, project_name="titanic")
    tuner.search(verbose=0)
    capsys.readouterr()
    tuner.results_summary(num_trials=2)
    assert capsys.readouterr().out == (
        "Results summary\n"
        f"Results in {tmp_path}/titanic\n"
        "Showing 2 best trials\n"
        'Objective(name="val_accuracy", direction="max")\n'
        "\n"
        "Trial 2 summary\nHyperparameters:\nunits: 64\nScore: 1.0\n"
        "\n"
        "Trial 0 summary\nHyperparameters:\nunits: 48\nScore: 0.75\n"
    )


def test_progress_lines_when_verbose(tmp_path, capsys):
    tuner = kt.RandomSearch(
        lambda hp: {"val_loss": hp.Float("x", 1.0, 2.0)},
        objective="val_loss",
        max_trials=2,
        seed=0,
        directory=tmp_path,
        project_name="verbose",
    )
    tuner.search()
    out = capsys.readouterr().out
    assert "Trial 1 Complete [00h 00m 00s]" in out and "Trial 2 Complete" in out
    assert "Best val_loss So Far: " in out and "Total elapsed time: 00h 00m 0" in out


def test_get_best_models_without_models_says_why(tmp_path):
    tuner = kt.RandomSearch(
        quadratic, objective="loss", max_trials=1, directory=tmp_path, project_name="nomodels"
    )
    tuner.search(verbose=0)
    with pytest.raises(RuntimeError, match="use get_best_hyperparameters"):
        tuner.get_best_models()


def test_a_bad_count_of_best_models_names_num_models(tmp_path):
    # get_best_models(num_models=0) said "num_trials=0", an argument the caller never gave.
    tuner = kt.RandomSearch(
        quadratic, objective="loss", max_trials=1, directory=tmp_path, project_name="count"
    )
    tuner.search(verbose=0)
    with pytest.raises(ValueError, match=r"^num_models=0; expected an int >= 1$"):
        tuner.get_best_models(num_models=0)
    with pytest.raises(ValueError, match=r"^num_trials='2'; expected an int >= 1$"):
        tuner.get_best_hyperparameters(num_trials="2")


def test_a_plugin_backend_trains_returned_models(tmp_path):
    """A backend registered with pluggy receives the models the hypermodel builds."""
    from tunelab import plugins
    from tunelab.backend import Backend
    from tunelab.hookspecs import hookimpl

    class Line:
        def __init__(self, slope):
            self.slope = slope

    class LineBackend(Backend):
        name = "line"
        options = frozenset({"target"})
        model_filename = "line.json"

        def owns(self, model):
            return isinstance(model, Line)

        def run_trial(self, context, model, data, **fit_kwargs):
            context.save_model(model)
            return {"loss": abs(model.slope * data - context.options["target"])}

        def save_model(self, model, path):
            path.write_text(str(model.slope))

        def load_model(self, path):
            return Line(float(path.read_text()))

    backend = LineBackend()

    class Plugin:
        @hookimpl
        def tunelab_backend_for(self, model):
            return backend if backend.owns(model) else None

        @hookimpl
        def tunelab_backend_named(self, name):
            return backend if name == "line" else None

        @hookimpl
        def tunelab_backend_options(self):
            return sorted(backend.options)

    plugin = Plugin()
    plugins.register(plugin, name="line-test")
    try:
        tuner = kt.RandomSearch(
            lambda hp: Line(hp.Float("slope", 0.0, 4.0)),
            objective="loss",
            max_trials=8,
            seed=0,
            target=6.0,
            directory=tmp_path,
            project_name="line",
        )
        tuner.search(2.0, verbose=0)
        best = tuner.get_best_models()[0]
        assert best.slope == tuner.get_best_hyperparameters()[0].values["slope"]
        with pytest.raises(TypeError, match="the line backend does not accept"):
            backend.validate_options({"cv": 3})
    finally:
        plugins.plugin_manager().unregister(plugin)


def test_import_tunelab_loads_no_framework():
    code = (
        "import sys, tunelab; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'sklearn', 'torch', 'jax', 'pandas', 'matplotlib')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_backend_names_resolve_lazily_with_install_hints(monkeypatch):
    # None in sys.modules makes the import fail as if the package were not installed.
    for name in ("tunelab_keras", "tunelab_keras.applications", "tunelab_sklearn"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(
        ImportError,
        match=r"kt.applications needs the tunelab-keras package: pip install \./packages/core "
        r"\./packages/keras_backend tensorflow \(from a checkout of tunelab",
    ):
        kt.applications  # noqa: B018
    with pytest.raises(
        ImportError, match=r"pip install \./packages/core \./packages/keras_backend"
    ):
        kt.Tuner  # noqa: B018
    with pytest.raises(ImportError, match="kt.tuners.Sklearn needs the tunelab-sklearn package"):
        kt.tuners.Sklearn  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'Nonsense'"):
        kt.Nonsense  # noqa: B018
