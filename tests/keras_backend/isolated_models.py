"""Hypermodels for the process-isolation tests, in a module of their own so that the
trial's process imports only this (and Keras), not the test module."""

from __future__ import annotations

import os
import signal

import keras

import tunelab as kt


class CrashingHyperModel(kt.HyperModel):
    """A small regressor whose fit kills its own process when ``crash`` is True."""

    def build(self, hp):
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8)), keras.layers.Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse")
        return model

    def fit(self, hp, model, *args, **kwargs):
        if hp.Boolean("crash"):
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        kwargs["callbacks"] = [RecordPid(), *kwargs.get("callbacks", [])]  # before the reporter
        return model.fit(*args, **kwargs)


class RecordPid(keras.callbacks.Callback):
    """Logs the process id, to show where the trial trained."""

    def on_epoch_end(self, epoch, logs=None):
        logs["pid"] = float(os.getpid())


class HookLoggingTuner(kt.RandomSearch):
    """Appends ``<hook> <pid> <epoch or batch>`` to ``self.log_path`` from every hook."""

    def __init__(self, *args, log_path, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_path = str(log_path)

    def _log(self, hook, step):
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{hook} {os.getpid()} {step}\n")

    def on_epoch_begin(self, trial, model, epoch, logs=None):
        self._log("on_epoch_begin", epoch)

    def on_epoch_end(self, trial, model, epoch, logs=None):
        self._log("on_epoch_end", epoch)

    def on_batch_begin(self, trial, model, batch, logs=None):
        self._log("on_batch_begin", batch)

    def on_batch_end(self, trial, model, batch, logs=None):
        self._log("on_batch_end", batch)
