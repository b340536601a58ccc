"""``trial_isolation="process"``: each trial trains in a fresh Python process.

The driver (the tuner's process) keeps the oracle and the store; the child builds the model,
trains it, saves it in the trial's folder and sends each epoch's metrics back over a socket,
getting the oracle's answer (go on or stop) in return. A child that crashes (segfault, out of
memory, killed) fails its trial only, and whatever it leaked dies with it.

The child is started with ``python -m tunelab_keras.isolation`` (not multiprocessing's
spawn, which would run the user's script again in the child); the hypermodel and the search
arguments go to it with cloudpickle, so they must be picklable (numpy arrays are; a
``tf.data.Dataset`` is not).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import traceback
import types
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tunelab.errors import InvalidTrialError
from tunelab.trial import Trial, TrialStatus

__all__ = ["TrialProcessError", "run_in_process"]


class TrialProcessError(RuntimeError):
    """The trial's process ended without a result (a crash, a signal, an exit)."""


def _exit_message(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the trial's process was killed by {name}"
    return f"the trial's process exited with code {code} before sending a result"


def run_in_process(
    tuner: Any, trial: Trial, settings: Any, args: tuple, kwargs: dict[str, Any]
) -> Any:
    """Run one trial in a child process; returns its result as `KerasBackend.run_trial`."""
    import cloudpickle

    from tunelab_keras.checkpoints import prune_models
    from tunelab_keras.training import SearchInputError

    options = {k: v for k, v in tuner.backend_kwargs.items() if k != "trial_isolation"}
    try:
        payload = cloudpickle.dumps(
            {
                "hypermodel": tuner.hypermodel,
                "hyperparameters": trial.hyperparameters.get_config(),
                "trial_id": trial.trial_id,
                "objective": tuner.oracle.objective.get_config(),
                "options": options,
                "project_dir": str(tuner.project_dir),
                "args": args,
                "kwargs": kwargs,
                **_user_hooks(tuner),
            }
        )
    except Exception as error:
        raise SearchInputError(
            "trial_isolation='process' sends the hypermodel and search()'s arguments to a new "
            f"process, and they cannot be pickled ({type(error).__name__}: {error}); pass numpy "
            "arrays rather than tf.data datasets, or leave trial_isolation unset"
        ) from error
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "tunelab_keras.isolation", str(theirs.fileno())],
        pass_fds=[theirs.fileno()],
    )
    theirs.close()
    connection = Connection(ours.detach())
    try:
        # The child imports the hypermodel's module from where this process found it.
        connection.send(list(sys.path))
        connection.send_bytes(payload)
        result = _serve(tuner, trial, connection, process)
    finally:
        connection.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if settings.keep_best_models is not None and "tuner/epochs" not in trial.hyperparameters.values:
        prune_models(tuner, trial, settings.keep_best_models)
    return result


HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end")
# The tuner's own state: the child has its stand-ins for these (or must not get them).
_RESERVED = frozenset({"oracle", "hypermodel", "backend_kwargs", "project_dir", "logger"})


def _user_hooks(tuner: Any) -> dict[str, Any]:
    """The epoch/batch hooks a tuner subclass overrides, and its picklable attributes (the
    hooks may read them as ``self.x``), to call the hooks in the child."""
    import cloudpickle

    from tunelab_keras.tuner import overridden_hooks

    cls = type(tuner)
    hooks = overridden_hooks(tuner, HOOKS)
    if not hooks:
        return {}
    # The hooks may call the subclass's other methods: take those of the user's classes.
    methods: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] in ("tunelab", "tunelab_keras", "builtins"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("__") or hasattr(_ChildTuner, name):
                continue
            if isinstance(value, (types.FunctionType, staticmethod, classmethod, property)):
                methods[name] = value
    state = {}
    for key, value in vars(tuner).items():
        if key in _RESERVED or key.startswith("_") or callable(value):
            continue
        try:
            cloudpickle.dumps(value)
        except Exception:  # noqa: BLE001 - what cannot travel stays in the driver
            continue
        state[key] = value
    return {"hooks": {**methods, **hooks}, "tuner_state": state}


def _serve(tuner: Any, trial: Trial, connection: Connection, process: Any) -> Any:
    """Answer the child's epoch reports until it sends its result."""
    from tunelab_keras.training import SearchInputError

    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            raise TrialProcessError(_exit_message(process.wait())) from None
        kind = message[0]
        if kind == "epoch":
            _, metrics, step = message
            connection.send(tuner.oracle.update_trial(trial, metrics, step=step))
        elif kind == "done":
            return message[1]
        elif kind == "invalid":
            raise InvalidTrialError(message[1])
        elif kind == "fatal":
            raise SearchInputError(message[1])
        else:
            raise TrialProcessError(f"the trial failed in its process:\n{message[1]}")


class _OracleProxy:
    """What the training code asks of the oracle, answered by the driver."""

    def __init__(self, connection: Connection, objective: Any) -> None:
        self.connection = connection
        self.objective = objective

    def update_trial(self, trial: Trial, metrics: dict[str, float], step: int = 0) -> str:
        self.connection.send(("epoch", metrics, step))
        status = self.connection.recv()
        trial.status = status
        return status

    def get_trial(self, trial_id: str) -> Trial:
        from tunelab.hyperparameters import HyperParameters

        return Trial(HyperParameters(), trial_id=trial_id)


class _ChildTuner:
    """The parts of a tuner that the Keras backend uses, in the child process."""

    def __init__(self, payload: dict[str, Any], connection: Connection) -> None:
        from tunelab.objective import Objective

        self.hypermodel = payload["hypermodel"]
        self.backend_kwargs = payload["options"]
        self.project_dir = Path(payload["project_dir"])
        self.oracle = _OracleProxy(connection, Objective.from_config(payload["objective"]))

    def _build(self, hp: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        from tunelab.tuner import BaseTuner

        return BaseTuner._build(self, hp, args, kwargs)  # type: ignore[arg-type]

    def get_trial_dir(self, trial_id: str) -> Path:
        return self.project_dir / f"trial_{trial_id}"

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        from tunelab_keras.checkpoints import MODEL_FILENAME, save_keras_model

        save_keras_model(model, self.get_trial_dir(trial_id) / MODEL_FILENAME)

    def load_model(self, trial: Trial) -> Any:
        from tunelab_keras.checkpoints import MODEL_FILENAME, load_keras_model

        path = self.get_trial_dir(trial.trial_id) / MODEL_FILENAME  # type: ignore[arg-type]
        if not path.exists():
            raise FileNotFoundError(path)
        return load_keras_model(path)


def _child_tuner(payload: dict[str, Any], connection: Connection) -> _ChildTuner:
    """A `_ChildTuner`, with the user's hooks as its methods when the tuner had some."""
    hooks = payload.get("hooks")
    if not hooks:
        return _ChildTuner(payload, connection)
    cls = type("ChildTunerWithHooks", (_ChildTuner,), dict(hooks))
    tuner = cls(payload, connection)
    for key, value in payload.get("tuner_state", {}).items():
        setattr(tuner, key, value)
    return tuner


def _child(fd: int) -> None:
    import cloudpickle

    connection = Connection(fd)
    sys.path[:] = connection.recv()
    try:
        payload = cloudpickle.loads(connection.recv_bytes())
    except Exception:
        connection.send(("failed", traceback.format_exc()))
        return
    try:
        from tunelab.errors import FatalError
        from tunelab.hyperparameters import HyperParameters
        from tunelab_keras.options import KerasOptions
        from tunelab_keras.training import build_model, build_scope, run_executions
        from tunelab_keras.tuner import BATCH_HOOKS, overridden_hooks

        tuner = _child_tuner(payload, connection)
        settings = KerasOptions.from_options({**payload["options"], "keep_best_models": None})
        trial = Trial(
            HyperParameters.from_config(payload["hyperparameters"]),
            trial_id=payload["trial_id"],
            status=TrialStatus.RUNNING,
        )
        args, kwargs = payload["args"], payload["kwargs"]
        with build_scope(settings):
            model = build_model(tuner, trial, args, kwargs)
        batch_hooks = bool(overridden_hooks(tuner, BATCH_HOOKS))
        result = run_executions(
            tuner, trial, model, settings, args, kwargs, batch_hooks=batch_hooks
        )
    except InvalidTrialError as error:
        connection.send(("invalid", str(error)))
    except FatalError as error:
        connection.send(("fatal", str(error)))
    except Exception:
        connection.send(("failed", traceback.format_exc()))
    else:
        connection.send(("done", result))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _child(int(sys.argv[1]))
