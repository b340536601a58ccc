"""kt.Tuner (subclass, hooks, custom run_trial), HyperModel.fit, and callbacks."""

from __future__ import annotations

import sys

import pytest
from conftest import build_classifier, keras

import tunelab as kt


class CountingTuner(kt.Tuner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = {"epoch_begin": 0, "epoch_end": 0, "batch_begin": 0, "batch_end": 0}
        self.epoch_logs = []

    def on_epoch_begin(self, trial, model, epoch, logs=None):
        self.calls["epoch_begin"] += 1

    def on_epoch_end(self, trial, model, epoch, logs=None):
        self.calls["epoch_end"] += 1
        self.epoch_logs.append((trial.trial_id, epoch, dict(logs)))

    def on_batch_begin(self, trial, model, batch, logs=None):
        self.calls["batch_begin"] += 1

    def on_batch_end(self, trial, model, batch, logs=None):
        self.calls["batch_end"] += 1


def test_tuner_hooks_see_every_epoch_and_batch(tmp_path, data):
    x, y = data
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=2, seed=0)
    tuner = CountingTuner(oracle, build_classifier, directory=tmp_path)
    tuner.search(x, y, epochs=2, batch_size=30, validation_split=0.25, verbose=0)
    # 2 trials x 2 epochs; 90 training samples in batches of 30: 3 batches per epoch.
    assert tuner.calls == {"epoch_begin": 4, "epoch_end": 4, "batch_begin": 12, "batch_end": 12}
    assert {"accuracy", "loss", "val_accuracy", "val_loss"} <= set(tuner.epoch_logs[0][2])
    for trial in oracle.trials.values():
        logged = [
            logs["val_accuracy"] for tid, _, logs in tuner.epoch_logs if tid == trial.trial_id
        ]
        assert trial.score == pytest.approx(max(logged))


def test_subclass_run_trial_may_return_a_history(tmp_path, data):
    x, y = data

    class MyTuner(kt.Tuner):
        def run_trial(self, trial, x, y, **kwargs):
            model = self.hypermodel.build(trial.hyperparameters)
            return model.fit(x, y, validation_split=0.25, epochs=2, verbose=0)

    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=2, seed=1)
    tuner = MyTuner(oracle, build_classifier, directory=tmp_path)
    tuner.search(x, y)
    trials = list(oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    assert all(0 < t.score < 5 for t in trials)
    assert set(trials[0].metrics.metrics) == {"accuracy", "loss", "val_accuracy", "val_loss"}


def test_hypermodel_fit_tunes_training_arguments(tmp_path, data):
    x, y = data
    seen = []

    class MyHyperModel(kt.HyperModel):
        def build(self, hp):
            return build_classifier(hp)

        def fit(self, hp, model, *args, **kwargs):
            batch_size = hp.Choice("batch_size", [16, 45])
            seen.append(batch_size)
            return model.fit(*args, batch_size=batch_size, **kwargs)

    tuner = kt.RandomSearch(
        MyHyperModel(), objective="val_accuracy", max_trials=3, seed=0, directory=tmp_path
    )
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert set(seen) <= {16, 45} and len(seen) == 3
    values = [t.hyperparameters.values["batch_size"] for t in tuner.oracle.trials.values()]
    assert values == seen


def test_hypermodel_fit_may_return_a_custom_metric(tmp_path, data):
    x, y = data

    class Custom(kt.HyperModel):
        def build(self, hp):
            return build_classifier(hp)

        def fit(self, hp, model, x, y, **kwargs):
            model.fit(x, y, **kwargs)
            return {"custom": float(hp.get("units"))}

    tuner = kt.RandomSearch(
        Custom(),
        objective=kt.Objective("custom", "min"),
        max_trials=2,
        seed=0,
        directory=tmp_path,
    )
    tuner.search(x, y, epochs=1, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == min(
        t.hyperparameters.values["units"] for t in tuner.oracle.trials.values()
    )


def test_early_stopping_is_copied_per_trial(tmp_path, data):
    x, y = data
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    tuner = kt.RandomSearch(build_classifier, objective="loss", max_trials=2, directory=tmp_path)
    tuner.search(x, y, epochs=10, callbacks=[stop], verbose=0)
    for trial in tuner.oracle.trials.values():
        # No epoch improves the loss by 100: each trial stops after its second epoch.
        assert len(trial.metrics.get_history("loss")) == 2
    assert stop.model is None  # the user's instance was never used, only its copies


def test_tensorboard_without_tensorboard_installed_warns_once(tmp_path, data, monkeypatch):
    import tunelab_keras.callbacks as callbacks

    monkeypatch.setitem(sys.modules, "tensorboard.plugins.hparams.api", None)
    monkeypatch.setattr(callbacks, "_warned_no_tensorboard", False)
    x, y = data
    tuner = kt.RandomSearch(build_classifier, objective="loss", max_trials=2, directory=tmp_path)
    board = keras.callbacks.TensorBoard(str(tmp_path / "logs"))
    with pytest.warns(UserWarning, match="HParams logging is off") as record:
        tuner.search(x, y, epochs=1, callbacks=[board], verbose=0)
    assert sum("HParams" in str(w.message) for w in record) == 1
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED", "COMPLETED"]
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["0", "1"]


def test_tensorboard_writes_hparams(tmp_path, data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = data
    tuner = kt.RandomSearch(build_classifier, objective="loss", max_trials=1, directory=tmp_path)
    tuner.search(
        x, y, epochs=1, callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "tb"))], verbose=0
    )
    events = EventAccumulator(str(tmp_path / "tb" / "0" / "execution0"))
    events.Reload()
    assert "_hparams_/session_start_info" in events.summary_metadata


def test_kt_tuner_needs_a_hypermodel_or_run_trial(tmp_path):
    with pytest.raises(ValueError, match="needs a hypermodel"):
        kt.Tuner(kt.oracles.RandomSearchOracle(max_trials=1), directory=tmp_path)
