"""KerasTuner-style `kt.SklearnTuner` code: sample weights with a Pipeline, a subclass that
saves its own model files in the trial's folder, and data of a type that cannot be split.

Expected values are KerasTuner 1.4.8's, from the same code run with ``import keras_tuner as
kt`` (scikit-learn 1.9).
"""

from __future__ import annotations

import os
import pickle

import joblib
import numpy as np
import pytest
from sklearn import linear_model, neighbors, pipeline, preprocessing

import tunelab as kt

X = np.random.RandomState(0).rand(60, 3)
Y = (X[:, 0] + 0.3 * X[:, 1] > 0.6).astype(int)
WEIGHTS = np.linspace(0.2, 2.0, 60)


def build_model(hp):
    if hp.Choice("model", ["pipeline", "knn"]) == "pipeline":
        with hp.conditional_scope("model", "pipeline"):
            C = hp.Choice("C", [0.1, 10.0])
        return pipeline.make_pipeline(
            preprocessing.StandardScaler(), linear_model.LogisticRegression(C=C)
        )
    return neighbors.KNeighborsClassifier(n_neighbors=3)  # its fit takes no sample_weight


def make_tuner(tmp_path, project_name, tuner_class=None, **kwargs):
    tuner_class = tuner_class or kt.SklearnTuner
    return tuner_class(
        oracle=kt.oracles.GridSearchOracle(objective=kt.Objective("score", "max")),
        hypermodel=build_model,
        directory=str(tmp_path),
        project_name=project_name,
        **kwargs,
    )


@pytest.mark.parametrize("n_jobs", [None, 2])  # 2: trials cross-validated in batches
def test_sample_weight_with_a_pipeline_and_an_estimator_without_it(tmp_path, n_jobs):
    tuner = make_tuner(tmp_path, "weights", overwrite=True, n_jobs=n_jobs)
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        tuner.search(X, Y, sample_weight=WEIGHTS)
    scores = {
        (t.hyperparameters.values["model"], t.hyperparameters.values.get("C")): t.score
        for t in tuner.oracle.trials.values()
    }
    statuses = {t.status for t in tuner.oracle.trials.values()}
    assert statuses == {"COMPLETED"}
    # KerasTuner 1.4.8 (default KFold(5, shuffle=True, random_state=1)): the Pipeline and the
    # KNN are fitted without the weights and scored with the test folds' weights.
    assert scores == pytest.approx(
        {
            ("pipeline", 0.1): 0.9493550185577521,
            ("pipeline", 10.0): 0.9838228438228438,
            ("knn", None): 0.9440717772793243,
        }
    )
    # The best configuration is refit on all the data, also without the weights.
    best = tuner.get_best_models(1)[0]
    assert isinstance(best, pipeline.Pipeline)
    assert best.named_steps["logisticregression"].get_params()["C"] == 10.0


class PickleTuner(kt.SklearnTuner):
    """A KerasTuner-style subclass that keeps its models as pickles in the trial folder."""

    def save_model(self, trial_id, model, step=0):
        fname = os.path.join(self.get_trial_dir(trial_id), "model.pickle")
        with open(fname, "wb") as f:
            pickle.dump(model, f)

    def load_model(self, trial):
        fname = os.path.join(self.get_trial_dir(trial.trial_id), "model.pickle")
        with open(fname, "rb") as f:
            return pickle.load(f)


def test_get_trial_dir_exists_so_a_subclass_can_save_its_own_files(tmp_path):
    tuner = make_tuner(tmp_path, "own_files", PickleTuner, overwrite=True)
    # KerasTuner 1.4.8: get_trial_dir creates the folder (True for a trial id never run).
    assert os.path.isdir(tuner.get_trial_dir("never_run"))
    tuner.search(X, Y)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    assert os.path.isfile(os.path.join(tuner.get_trial_dir(best_trial.trial_id), "model.pickle"))
    # A new tuner on the project (another session) loads it with the subclass's load_model.
    again = make_tuner(tmp_path, "own_files", PickleTuner)
    model = again.get_best_models(1)[0]
    assert isinstance(model, pipeline.Pipeline)
    fitted = model.named_steps["logisticregression"].get_params()
    assert fitted["C"] == best_trial.hyperparameters.get("C")


@pytest.mark.parametrize(
    ("name", "X", "y", "received"),
    [
        ("X", {"features": X}, Y, "a dict"),
        ("X", (row for row in X), Y, "a generator"),
        ("X", "features.csv", Y, "a str: 'features.csv'"),
        ("y", X, set(range(60)), "a set"),
    ],
)
def test_data_of_an_unsupported_type_raises_type_error_before_any_trial(
    tmp_path, name, X, y, received
):
    tuner = make_tuner(tmp_path, "bad_type", overwrite=True)
    # KerasTuner 1.4.8 raises TypeError("Expected the data to be numpy.ndarray or
    # pandas.DataFrame. Received: ...") in each trial, and stops after three failed trials;
    # here the TypeError comes before any trial.
    with pytest.raises(TypeError, match=rf"search\({name}=\.\.\.\): expected the data to be"):
        tuner.search(X, y)
    with pytest.raises(TypeError, match=received):
        tuner.search(X, y)
    assert tuner.oracle.trials == {}
    with pytest.raises(kt.errors.SearchSetupError):  # also a tunelab setup error
        tuner.search(X, y)


def test_lists_and_pandas_data_are_accepted(tmp_path):
    # KerasTuner 1.4.8 refuses lists and a pandas Series y (TypeError in every trial);
    # tunelab splits them as scikit-learn does (see docs/migration.md).
    pd = pytest.importorskip("pandas")
    tuner = make_tuner(tmp_path, "lists", overwrite=True, cv=3)
    tuner.search(X.tolist(), Y.tolist())
    tuner = make_tuner(tmp_path, "pandas", overwrite=True, cv=3)
    tuner.search(pd.DataFrame(X), pd.Series(Y))
    assert {t.status for t in tuner.oracle.trials.values()} == {"COMPLETED"}
