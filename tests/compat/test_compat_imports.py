"""KerasTuner's module paths, as user code imports them, with `import tunelab as kt` and
through the opt-in `keras_tuner` alias.

Each path below is one that KerasTuner 1.4.8 (or an earlier 1.x, for
``keras_tuner.tuners.randomsearch`` and ``keras_tuner.engine.objective``) lets user code
import. The checks that look at ``sys.modules`` run in a fresh interpreter, so that what
other tests imported does not count, and so that the alias never leaks into this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import tunelab as kt

BACKENDS = ("keras", "tensorflow", "jax", "torch", "sklearn", "tunelab_keras", "tunelab_sklearn")


def run_python(code: str, *args: str, env_path: str | None = None) -> str:
    """Run `code` in a fresh interpreter and return its stdout (stderr shown on failure)."""
    env = None if env_path is None else {**os.environ, "PYTHONPATH": env_path}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_module_paths_resolve_without_loading_a_backend():
    out = run_python(
        f"""
        import json, sys
        import tunelab as kt
        from tunelab.engine import hyperparameters, trial, tuner, base_tuner, oracle
        from tunelab.engine import hypermodel, objective, metrics_tracking
        from tunelab.tuners import randomsearch, gridsearch, bayesian, hyperband, sklearn_tuner
        import tunelab.tuners.hyperband
        checks = {{
            "hp": kt.engine.hyperparameters.HyperParameters is kt.HyperParameters,
            "int": hyperparameters.Int is kt.engine.hyperparameters.Int,
            "trial": trial.Trial is kt.Trial and trial.TrialStatus is kt.TrialStatus,
            "base_tuner": base_tuner.BaseTuner is kt.BaseTuner,
            "oracle": oracle.Oracle is kt.Oracle and oracle.Objective is kt.Objective,
            "hypermodel": hypermodel.HyperModel is kt.HyperModel,
            "objective": objective.Objective is kt.Objective,
            "random": randomsearch.RandomSearch is kt.RandomSearch
            and randomsearch.RandomSearchOracle is kt.oracles.RandomSearchOracle,
            "grid": gridsearch.GridSearch is kt.GridSearch
            and gridsearch.GridSearchOracle is kt.oracles.GridSearchOracle,
            "bayesian": bayesian.BayesianOptimization is kt.BayesianOptimization
            and bayesian.BayesianOptimizationOracle is kt.oracles.BayesianOptimizationOracle,
            "hyperband": tunelab.tuners.hyperband.Hyperband is kt.Hyperband
            and hyperband.HyperbandOracle is kt.oracles.HyperbandOracle,
            "attribute": kt.tuners.gridsearch is gridsearch,
        }}
        loaded = [m for m in sys.modules if m.split(".")[0] in {BACKENDS!r}]
        print(json.dumps({{"checks": checks, "loaded": loaded}}))
        """
    )
    result = json.loads(out)
    assert result["loaded"] == []
    assert all(result["checks"].values()), result["checks"]


def test_backend_names_under_the_module_paths_load_their_backend_on_first_use():
    # (The test above shows that importing the module loads no backend.)
    from tunelab.tuners import sklearn_tuner

    assert sklearn_tuner.SklearnTuner is kt.SklearnTuner is kt.tuners.SklearnTuner


def test_keras_tuners_public_names_of_each_engine_module_exist():
    # The names KerasTuner 1.4.8 exports from each public keras_tuner.engine module.
    expected = {
        "base_tuner": ["BaseTuner"],
        "hypermodel": ["HyperModel"],
        "hyperparameters": [
            "Boolean",
            "Choice",
            "Fixed",
            "Float",
            "HyperParameter",
            "HyperParameters",
            "Int",
        ],
        "metrics_tracking": ["infer_metric_direction"],
        "oracle": ["Objective", "Oracle"],
        "trial": ["Trial", "TrialStatus"],
        "tuner": ["maybe_distribute"],  # and Tuner, which needs Keras (checked lazily)
    }
    for module, names in expected.items():
        for name in names:
            assert hasattr(getattr(kt.engine, module), name), f"kt.engine.{module}.{name}"
    assert kt.engine.metrics_tracking.MetricsTracker  # public before KerasTuner 1.4


def test_kt_oracles_has_keras_tuners_names_and_the_short_aliases():
    assert kt.oracles.RandomSearch is kt.oracles.RandomSearchOracle
    assert kt.oracles.GridSearch is kt.oracles.GridSearchOracle
    assert kt.oracles.BayesianOptimization is kt.oracles.BayesianOptimizationOracle
    assert kt.oracles.Hyperband is kt.oracles.HyperbandOracle


def test_unknown_names_raise_attribute_error_naming_the_module():
    with pytest.raises(AttributeError, match="tunelab.engine.tuner.*'Tunr'"):
        kt.engine.tuner.Tunr  # noqa: B018
    with pytest.raises(ImportError, match="tunelab.tuners.randomsearh"):
        import tunelab.tuners.randomsearh  # noqa: F401


def test_maybe_distribute_enters_the_strategy_scope():
    entered = []

    class Strategy:  # the one method KerasTuner's maybe_distribute calls
        def scope(self):
            import contextlib

            @contextlib.contextmanager
            def scope():
                entered.append("in")
                yield
                entered.append("out")

            return scope()

    with kt.engine.tuner.maybe_distribute(Strategy()):
        entered.append("body")
    with kt.engine.tuner.maybe_distribute(None):
        entered.append("plain")
    assert entered == ["in", "body", "out", "plain"]


# ----------------------------------------------------------------------------------------
# The keras_tuner alias
# ----------------------------------------------------------------------------------------
KERAS_TUNER_USER_CODE = """
import json, sys
from tunelab.compat import install_keras_tuner_alias
install_keras_tuner_alias()

# Unchanged KerasTuner user code from here on.
import keras_tuner
import keras_tuner as kt
from keras_tuner.engine.hyperparameters import HyperParameters
from keras_tuner.engine import trial as trial_module
from keras_tuner.engine.metrics_tracking import MetricsTracker
from keras_tuner.tuners import randomsearch
from keras_tuner.oracles import BayesianOptimizationOracle
import keras_tuner.tuners.hyperband
import keras_tuner.tuners.sklearn_tuner


class MyTuner(randomsearch.RandomSearch):
    def run_trial(self, trial, offset):
        x = trial.hyperparameters.Float("x", -1.0, 1.0)
        return {"loss": (x - offset) ** 2}


hp = HyperParameters()
hp.Float("x", -1.0, 1.0)
tuner = MyTuner(
    objective=kt.Objective("loss", "min"),
    hyperparameters=hp,
    max_trials=4,
    seed=1,
    directory=sys.argv[1],
    project_name="alias",
    overwrite=True,
)
tuner.search(0.25)
statuses = [t.status for t in tuner.oracle.trials.values()]
print(json.dumps({
    "module": keras_tuner.__name__,
    "same_hp": HyperParameters is kt.HyperParameters,
    "trial_status": trial_module.TrialStatus.COMPLETED,
    "tracker": MetricsTracker(metrics=["val_accuracy"]).get_direction("val_accuracy"),
    "bayesian": BayesianOptimizationOracle.__name__,
    "hyperband": keras_tuner.tuners.hyperband.HyperbandOracle.__name__,
    "sklearn_tuner": keras_tuner.tuners.sklearn_tuner.__name__,
    "statuses": statuses,
    "backends": [m for m in sys.modules if m.split(".")[0] in BACKENDS],
}))
""".replace("BACKENDS", repr(BACKENDS))


def test_unchanged_keras_tuner_code_runs_after_installing_the_alias(tmp_path):
    out = run_python(KERAS_TUNER_USER_CODE, str(tmp_path))
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {
        "module": "tunelab",
        "same_hp": True,
        "trial_status": "COMPLETED",
        "tracker": "max",
        "bayesian": "BayesianOptimizationOracle",
        "hyperband": "HyperbandOracle",
        "sklearn_tuner": "tunelab.tuners.sklearn_tuner",
        "statuses": ["COMPLETED"] * 4,
        "backends": [],
    }


def test_the_alias_refuses_when_a_real_keras_tuner_is_already_imported(tmp_path):
    # A keras_tuner package of its own on the path stands for an installed keras-tuner.
    package = tmp_path / "keras_tuner"
    package.mkdir()
    (package / "__init__.py").write_text("REAL = True\n")
    out = run_python(
        """
        import keras_tuner
        from tunelab.compat import install_keras_tuner_alias
        try:
            install_keras_tuner_alias()
        except ImportError as error:
            print(type(error).__name__, "|", error)
        import keras_tuner
        print(keras_tuner.REAL)
        """,
        env_path=str(tmp_path),
    )
    first, second = out.strip().splitlines()
    name, message = first.split(" | ")
    assert name == "KerasTunerAliasError"
    assert "the real keras_tuner is already imported" in message
    assert str(package / "__init__.py") in message
    assert "before anything imports keras_tuner" in message
    assert second == "True"  # the real package is untouched


def test_the_alias_shadows_an_installed_keras_tuner_until_removed(tmp_path):
    package = tmp_path / "keras_tuner"
    package.mkdir()
    (package / "__init__.py").write_text("REAL = True\n")
    out = run_python(
        """
        from tunelab.compat import install_keras_tuner_alias, remove_keras_tuner_alias
        install_keras_tuner_alias()
        install_keras_tuner_alias()  # a second call does nothing
        import keras_tuner
        import kerastuner.engine.trial  # KerasTuner's name before 1.0.2
        print(keras_tuner.__name__, kerastuner.engine.trial.__name__)
        remove_keras_tuner_alias()
        import keras_tuner
        print(keras_tuner.__name__, keras_tuner.REAL)
        """,
        env_path=str(tmp_path),
    )
    assert out.split() == ["tunelab", "tunelab.engine.trial", "keras_tuner", "True"]


def test_serialize_and_deserialize_are_re_exported_when_the_core_has_them():
    from tunelab import hyperparameters

    if not hasattr(hyperparameters, "serialize"):
        with pytest.raises(AttributeError, match="kt.engine.hyperparameters.serialize"):
            kt.engine.hyperparameters.serialize  # noqa: B018
        return
    assert kt.engine.hyperparameters.serialize is hyperparameters.serialize
    assert kt.engine.hyperparameters.deserialize is hyperparameters.deserialize


@pytest.mark.parametrize(
    "module", ["tunelab.engine", "tunelab.engine.metrics_tracking", "tunelab.engine.tuner"]
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_docstring_examples_of_the_alias():
    # In a fresh interpreter: the examples install the alias.
    out = run_python(
        """
        import doctest, tunelab.compat
        print(doctest.testmod(tunelab.compat).failed, doctest.testmod(tunelab.compat).attempted)
        """
    )
    failed, attempted = out.split()
    assert failed == "0" and int(attempted) > 0


def test_keras_names_load_the_keras_backend_lazily_and_name_the_package(monkeypatch):
    # None in sys.modules makes the import fail as if tunelab-keras were not installed.
    monkeypatch.setitem(sys.modules, "tunelab_keras", None)
    monkeypatch.setitem(sys.modules, "tunelab_keras.applications", None)
    with pytest.raises(ImportError, match="kt.engine.tuner.Tuner needs the tunelab-keras"):
        kt.engine.tuner.Tuner  # noqa: B018
    from tunelab.compat import applications  # keras_tuner.applications under the alias

    with pytest.raises(
        ImportError, match=r"pip install \./packages/core \./packages/keras_backend"
    ):
        applications.HyperResNet  # noqa: B018
    with pytest.raises(AttributeError, match="keras_tuner.applications.*'HyperNet'"):
        applications.HyperNet  # noqa: B018
