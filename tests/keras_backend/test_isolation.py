"""trial_isolation="process" and distribution strategies: each runs in other processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from isolated_models import CrashingHyperModel

import tunelab as kt


@pytest.mark.slow
def test_a_crashing_trial_fails_alone_in_its_process(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = x.sum(axis=1)
    tuner = kt.RandomSearch(
        CrashingHyperModel(),
        objective="val_loss",
        max_trials=2,
        trial_isolation="process",
        directory=tmp_path,
    )
    tuner.oracle.enqueue_trial({"crash": True})
    tuner.oracle.enqueue_trial({"crash": False})
    tuner.search(x, y, epochs=2, validation_split=0.2, verbose=0)
    crashed, survived = tuner.oracle.trials.values()
    assert crashed.status == "FAILED"
    assert "killed by SIGKILL" in crashed.message
    assert survived.status == "COMPLETED"
    pids = {o.value[0] for o in survived.metrics.get_history("pid")}
    assert len(pids) == 1 and os.getpid() not in pids  # trained in another process
    model = tuner.get_best_models()[0]  # saved by the trial's process
    loss = model.evaluate(x[48:], y[48:], verbose=0)
    assert loss == pytest.approx(survived.score, rel=1e-5)


def test_tf_data_cannot_be_sent_to_a_trial_process(tmp_path):
    import tensorflow as tf

    from tunelab.errors import FatalError

    x = np.zeros((8, 4), "float32")
    data = tf.data.Dataset.from_tensor_slices((x, x[:, 0])).batch(4)
    tuner = kt.RandomSearch(
        CrashingHyperModel(),
        objective="loss",
        max_trials=1,
        trial_isolation="process",
        directory=tmp_path,
    )
    with pytest.raises(FatalError, match="cannot be pickled"):
        tuner.search(data, epochs=1, verbose=0)


def run_script(script: str, tmp_path) -> dict:
    """Run `script` in a fresh Python (a Keras backend or device setting is chosen before
    keras is imported) with `tmp_path` as its argument; its last line of output is JSON."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


MIRRORED = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras
    import tunelab as kt

    replicas = []

    class Replicas(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            replicas.append(tf.distribute.get_strategy().num_replicas_in_sync)

    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8)),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    tuner = kt.RandomSearch(build, objective="loss", max_trials=2, seed=0,
                            distribution_strategy=strategy, directory=sys.argv[1])
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    tuner.search(x, x.sum(axis=1), epochs=2, batch_size=16, callbacks=[Replicas()], verbose=0)
    print(json.dumps({
        "statuses": [t.status for t in tuner.oracle.trials.values()],
        "replicas": replicas,
        "devices": len(tf.config.list_logical_devices("CPU")),
        "loadable": tuner.get_best_models()[0].count_params() > 0,
    }))
    """
)


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    # Logical devices must be set before TensorFlow starts: a process of its own.
    report = run_script(MIRRORED, tmp_path)
    assert report == {
        "statuses": ["COMPLETED", "COMPLETED"],
        "replicas": [2, 2],  # every trial trained on both replicas
        "devices": 2,
        "loadable": True,
    }


JAX = textwrap.dedent(
    """
    import json, os, sys
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np
    import keras
    import tunelab as kt

    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8)),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=2, seed=0,
                            directory=sys.argv[1])
    x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    tuner.search(x, x.sum(axis=1), epochs=2, validation_split=0.25, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    print(json.dumps({
        "backend": keras.backend.backend(),
        "statuses": [t.status for t in tuner.oracle.trials.values()],
        "steps": [o.step for o in best.metrics.get_history("val_loss")],
        "reloaded_loss": float(tuner.get_best_models()[0].evaluate(x[30:], x[30:].sum(axis=1),
                                                                      verbose=0)),
        "score": best.score,
    }))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_backends(tmp_path, backend):
    # Runs where the framework is installed: jax comes with the dev group (so CI runs it),
    # torch only with the "bench" group (its wheel is too large for CI).
    pytest.importorskip(backend)
    script = JAX.replace('"KERAS_BACKEND"] = "jax"', f'"KERAS_BACKEND"] = "{backend}"')
    report = run_script(script, tmp_path)
    assert report["backend"] == backend
    assert report["statuses"] == ["COMPLETED", "COMPLETED"] and report["steps"] == [0, 1]
    assert report["reloaded_loss"] == pytest.approx(report["score"], rel=1e-5)


JAX_DATA_PARALLEL = textwrap.dedent(
    """
    import json, os, sys
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import numpy as np
    import keras
    import tunelab as kt

    builds, layouts = [], []

    class Layout(keras.callbacks.Callback):
        # The devices the first kernel is spread over while the trial trains.
        def on_train_begin(self, logs=None):
            layouts.append(len(self.model.weights[0].value.sharding.device_set))

    def build(hp):
        builds.append(1)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8)),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    devices = keras.distribution.list_devices("cpu")
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=3, seed=0,
                            directory=sys.argv[1], backend="keras",
                            distribution_strategy=keras.distribution.DataParallel(devices=devices))
    x = np.random.default_rng(0).normal(size=(48, 4)).astype("float32")
    tuner.search(x, x.sum(axis=1), epochs=1, batch_size=8, validation_split=0.25,
                 callbacks=[Layout()], verbose=0)
    print(json.dumps({
        "devices": len(devices),
        "statuses": [t.status for t in tuner.oracle.trials.values()],
        "builds": len(builds),
        "layouts": layouts,
        "after": keras.distribution.distribution() is None,
    }))
    """
)


@pytest.mark.slow
def test_jax_data_parallel_distribution(tmp_path):
    # keras.distribution.DataParallel over 2 simulated CPU devices: each trial's model is
    # built once, in the distribution's scope, and trains with its weights on both devices.
    pytest.importorskip("jax")
    report = run_script(JAX_DATA_PARALLEL, tmp_path)
    assert report == {
        "devices": 2,
        "statuses": ["COMPLETED"] * 3,
        "builds": 4,  # one at construction (the space, as KerasTuner does), one per trial
        "layouts": [2, 2, 2],
        "after": True,  # the global distribution is restored after the search
    }


@pytest.mark.slow
def test_a_tuner_subclass_hooks_are_called_in_the_trial_process(tmp_path):
    from isolated_models import HookLoggingTuner

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = x.sum(axis=1)
    log = tmp_path / "hooks.log"
    tuner = HookLoggingTuner(
        CrashingHyperModel(),
        log_path=log,
        objective="loss",
        max_trials=1,
        trial_isolation="process",
        directory=tmp_path,
    )
    tuner.oracle.enqueue_trial({"crash": False})
    tuner.search(x, y, epochs=2, batch_size=20, verbose=0)
    assert tuner.oracle.get_best_trials(1)[0].status == "COMPLETED"
    lines = [line.split() for line in log.read_text().splitlines()]
    assert {pid for _, pid, _ in lines} != {str(os.getpid())}  # called in the child
    assert len({pid for _, pid, _ in lines}) == 1
    calls = [(hook, int(step)) for hook, _, step in lines]
    expected = []
    for epoch in range(2):  # 40 samples in batches of 20: 2 batches an epoch
        expected += [("on_epoch_begin", epoch)]
        expected += [(f"on_batch_{e}", b) for b in range(2) for e in ("begin", "end")]
        expected += [("on_epoch_end", epoch)]
    assert calls == expected
