"""KerasTuner user code run with ``import tunelab as kt``: the best models of subclassed
Keras models, and TensorBoard's HParams records of every trial."""

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


class Net(keras.Model):
    """A subclassed model, not registered as serializable, whose __init__ takes an argument
    (Keras can neither save its configuration nor load it back)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.out = keras.layers.Dense(1)

    def call(self, inputs):
        return self.out(self.hidden(inputs))


class Plain(keras.Model):
    """A subclassed model that Keras saves, but cannot load (its class is unknown)."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)

    def call(self, inputs):
        return self.dense(inputs)


class Subclassed(kt.HyperModel):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.trained = {}

    def build(self, hp):
        units = hp.Int("units", 2, 6)
        if self.kind == "lambda":  # safe_mode refuses to load a Lambda layer's code
            model = keras.Sequential(
                [keras.Input((3,)), keras.layers.Lambda(lambda t: 2 * t), keras.layers.Dense(1)]
            )
        else:
            model = Net(units) if self.kind == "net" else Plain()
        model.compile(optimizer="adam", loss="mse")
        return model

    def fit(self, hp, model, *args, **kwargs):
        history = model.fit(*args, **kwargs)
        self.trained[hp.get("units")] = model  # to compare with what get_best_models loads
        return history


@pytest.mark.parametrize("kind", ["net", "plain", "lambda"])
def test_get_best_models_of_a_model_keras_cannot_load_safely(tmp_path, kind):
    hypermodel = Subclassed(kind)
    tuner = kt.RandomSearch(
        hypermodel, objective="loss", max_trials=2, seed=1, directory=tmp_path, project_name=kind
    )
    tuner.search(X, Y, epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED", "COMPLETED"]
    best_trial = tuner.oracle.get_best_trials(1)[0]
    (model,) = tuner.get_best_models(1)
    assert type(model) is {"net": Net, "plain": Plain, "lambda": keras.Sequential}[kind]
    assert model.compiled
    trained = hypermodel.trained[best_trial.hyperparameters.get("units")]
    # The saved weights (one epoch: the best epoch is the last one) are those loaded.
    np.testing.assert_allclose(model.predict(X, verbose=0), trained.predict(X, verbose=0))


def _hparams_records(folder):
    """The HParams plugin records in the event files under `folder`, by kind."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import plugin_data_pb2

    records = []
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            if not name.startswith("events.out.tfevents"):
                continue
            for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                for value in event.summary.value:
                    if value.metadata.plugin_data.plugin_name != "hparams":
                        continue
                    data = plugin_data_pb2.HParamsPluginData.FromString(
                        value.metadata.plugin_data.content
                    )
                    records.append((root, data.WhichOneof("data"), data))
    return records


def test_tensorboard_hparams_start_and_end_every_trial(tmp_path):
    from tensorboard.plugins.hparams import api_pb2

    def build(hp):
        units = hp.Int("units", 1, 4)
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(units), keras.layers.Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse")
        return model

    logs = tmp_path / "logs"
    tuner = kt.RandomSearch(
        build, objective="loss", max_trials=2, seed=0, directory=tmp_path, project_name="tb"
    )
    tuner.search(X, Y, epochs=1, callbacks=[keras.callbacks.TensorBoard(str(logs))], verbose=0)
    records = _hparams_records(logs)
    trial_ids = sorted(tuner.oracle.trials)
    for trial_id in trial_ids:
        folder = str(logs / trial_id / "execution0")
        kinds = {kind: data for root, kind, data in records if root == folder}
        # KerasTuner 1.4.8 (hparams_api.KerasCallback): a session start with the trial's id
        # and values, and a session end with STATUS_SUCCESS, in each execution's folder.
        assert set(kinds) == {"session_start_info", "session_end_info"}
        start = kinds["session_start_info"].session_start_info
        assert start.group_name == trial_id
        units = tuner.oracle.trials[trial_id].hyperparameters.get("units")
        assert start.hparams["units"].number_value == units
        end = kinds["session_end_info"].session_end_info
        assert end.status == api_pb2.STATUS_SUCCESS
        assert end.end_time_secs >= start.start_time_secs


def test_tensorboard_hparams_end_a_failed_fit_with_failure(tmp_path):
    from tensorboard.plugins.hparams import api_pb2

    class Failing(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("u", 1, 4))])
            model.compile(loss="mse")
            return model

        def fit(self, hp, model, *args, **kwargs):
            raise RuntimeError("diverged")

    logs = tmp_path / "logs"
    tuner = kt.RandomSearch(
        Failing(),
        objective="loss",
        max_trials=1,
        max_retries_per_trial=0,
        directory=tmp_path,
    )
    tuner.search(X, Y, epochs=1, callbacks=[keras.callbacks.TensorBoard(str(logs))], verbose=0)
    ends = [data.session_end_info for _, kind, data in _hparams_records(logs) if "end" in kind]
    assert [end.status for end in ends] == [api_pb2.STATUS_FAILURE]
