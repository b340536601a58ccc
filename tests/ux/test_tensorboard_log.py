"""TensorBoard HParams for function and scikit-learn searches: the event files written by
`TensorBoardLogger`, read back with TensorBoard's own EventAccumulator, hold each trial's
hyperparameters, its status and the metric values the store holds."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.util import tensor_util

import tunelab as kt
from tunelab.tensorboard_log import TensorBoardLogger


def _read(run: Path) -> tuple[dict, dict[str, list[tuple[int, float]]]]:
    """A run folder's HParams plugin records (by tag) and its scalars (by tag)."""
    events = EventAccumulator(str(run), size_guidance={"tensors": 0})
    events.Reload()
    plugin = {
        tag: plugin_data_pb2.HParamsPluginData.FromString(content)
        for tag, content in events.PluginTagToContent("hparams").items()
    }
    scalars = {
        tag: [
            (e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)
        ]
        for tag in events.Tags()["tensors"]
        if not tag.startswith("_hparams_/")
    }
    return plugin, scalars


def _hparams(start: plugin_data_pb2.HParamsPluginData) -> dict:
    out = {}
    for name, value in start.session_start_info.hparams.items():
        out[name] = getattr(value, value.WhichOneof("kind"))
    return out


# Reading event files back imports TensorFlow where it is installed (~25 s, once a process).
@pytest.mark.slow
def test_a_function_search_writes_one_session_per_trial(tmp_path: Path) -> None:
    def train(hp: kt.HyperParameters, trial: kt.Trial) -> None:
        x = hp.Float("x", -1.0, 1.0)
        activation = hp.Choice("activation", ["relu", "tanh"])
        wide = hp.Boolean("wide")
        if x > 0.4:
            raise RuntimeError("diverged")
        for epoch in range(3):
            loss = (x - 0.2) ** 2 + 0.1 * (activation == "tanh") + 1 / (epoch + 1 + wide)
            trial.report({"loss": loss, "accuracy": 1 - loss / 10}, step=epoch)

    logger = TensorBoardLogger(tmp_path / "logs")
    tuner = kt.RandomSearch(
        train, objective="loss", max_trials=8, seed=5, logger=logger,
        max_consecutive_failed_trials=None, directory=tmp_path, project_name="f",
    )  # fmt: skip
    tuner.search(verbose=0)
    trials = tuner.oracle.trials
    assert logger.sessions == len(trials) == 8
    failed = [i for i, t in trials.items() if t.status == "FAILED"]
    assert 0 < len(failed) < 8  # both kinds of session are checked below

    experiment, _ = _read(tmp_path / "logs")
    info = experiment["_hparams_/experiment"].experiment
    domains = {h.name: h for h in info.hparam_infos}
    assert list(domains) == ["x", "activation", "wide"]
    assert (domains["x"].domain_interval.min_value, domains["x"].domain_interval.max_value) == (
        -1.0,
        1.0,
    )
    assert [v.string_value for v in domains["activation"].domain_discrete.values] == [
        "relu",
        "tanh",
    ]
    assert domains["wide"].type == api_pb2.DATA_TYPE_BOOL
    assert [m.name.tag for m in info.metric_infos] == ["score", "loss", "accuracy"]

    for trial_id, trial in trials.items():
        plugin, scalars = _read(tmp_path / "logs" / trial_id)
        assert _hparams(plugin["_hparams_/session_start_info"]) == trial.hyperparameters.values
        status = plugin["_hparams_/session_end_info"].session_end_info.status
        if trial.status == "FAILED":
            assert status == api_pb2.STATUS_FAILURE and scalars == {}
            continue
        assert status == api_pb2.STATUS_SUCCESS
        for name in ("loss", "accuracy"):
            history = trial.metrics.get_history(name)
            assert [s for s, _ in scalars[name]] == [0, 1, 2]
            assert np.allclose([v for _, v in scalars[name]], [o.mean() for o in history])
        ((step, score),) = scalars["score"]
        assert score == pytest.approx(trial.score, rel=1e-6) and step == trial.best_step


@pytest.mark.slow
def test_a_scikit_learn_search_logs_its_cross_validated_scores(tmp_path: Path) -> None:
    from scipy.stats import loguniform
    from sklearn.base import clone
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from tunelab_sklearn import TuneSearchCV

    x, y = make_classification(n_samples=80, n_features=5, random_state=0)
    logger = TensorBoardLogger(tmp_path / "logs")
    search = TuneSearchCV(
        LogisticRegression(max_iter=200),
        {"C": loguniform(1e-3, 10.0), "fit_intercept": [True, False]},
        n_trials=4, cv=3, random_state=0, logger=logger,
        directory=tmp_path, project_name="cv",
    )  # fmt: skip
    search = clone(search)  # as scikit-learn's tools do: the logger is copied with it
    search.fit(x, y)
    assert search.logger.sessions == 4 and search.logger is not logger
    runs = sorted(p for p in (tmp_path / "logs").iterdir() if p.is_dir())
    assert len(runs) == 4
    seen = []
    for run in runs:
        plugin, scalars = _read(run)
        values = _hparams(plugin["_hparams_/session_start_info"])
        seen.append((values["C"], values["fit_intercept"]))
        (score,) = [v for _, v in scalars["score"]]
        row = [
            i
            for i, p in enumerate(search.cv_results_["params"])
            if math.isclose(p["C"], values["C"]) and p["fit_intercept"] == values["fit_intercept"]
        ]
        assert score == pytest.approx(search.cv_results_["mean_test_score"][row[0]], rel=1e-6)
    expected = [(p["C"], p["fit_intercept"]) for p in search.cv_results_["params"]]
    assert sorted(seen) == sorted(expected)


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"log_dir=3: expected a folder path"):
        TensorBoardLogger(3)  # type: ignore[arg-type]
    from sklearn.linear_model import LogisticRegression

    from tunelab_sklearn import TuneSearchCV

    search = TuneSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, logger="tb")
    with pytest.raises(TypeError, match=r"logger='tb'; expected None or an object with"):
        search.fit(np.zeros((6, 2)), [0, 1] * 3)


def test_without_tensorboard_the_error_says_what_to_install(tmp_path: Path) -> None:
    # A process where importing tensorboard fails, as where it is not installed.
    code = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "from tunelab.tensorboard_log import TensorBoardLogger\n"
        "try:\n    TensorBoardLogger('logs')\n"
        "except ImportError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert "TensorBoardLogger needs tensorboard, which is not installed: pip install" in done.stdout
    assert "tensorflow" not in done.stderr.lower()
