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
from typing import TYPE_CHECKING, Any

from tunelab.errors import InvalidTrialError
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.context import TrialContext

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
    context: TrialContext, settings: Any, args: tuple, kwargs: dict[str, Any]
) -> Any:
    """Run one trial in a child process; returns its result as `KerasBackend.run_trial`."""
    import cloudpickle

    from tunelab_keras.checkpoints import prune_models
    from tunelab_keras.training import SearchInputError

    trial = context.trial
    options = {k: v for k, v in context.options.items() if k != "trial_isolation"}
    try:
        payload = cloudpickle.dumps(
            {
                "hypermodel": context.hypermodel,
                "hyperparameters": trial.hyperparameters.get_config(),
                "trial_id": trial.trial_id,
                "objective": context.objective.get_config(),
                "options": options,
                "project_dir": str(context.project_dir),
                "args": args,
                "kwargs": kwargs,
                **_user_hooks(context.hooks),
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
        result = _serve(context, connection, process)
    finally:
        connection.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if settings.keep_best_models is not None and "tuner/epochs" not in trial.hyperparameters.values:
        prune_models(context, settings.keep_best_models)
    return result


HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end")
# The tuner's own state: the child has no use for these (or must not get them).
_RESERVED = frozenset({"oracle", "hypermodel", "backend_kwargs", "project_dir", "logger"})


def _user_hooks(hooks: Any) -> dict[str, Any]:
    """The epoch/batch hooks that `hooks` (the tuner) overrides, its class's other user
    methods, and its picklable attributes (the hooks may read them as ``self.x``), to call
    the hooks in the child."""
    import cloudpickle

    from tunelab_keras.tuner import overridden_hooks

    cls = type(hooks)
    overridden = overridden_hooks(hooks, HOOKS)
    if not overridden:
        return {}
    # The hooks may call the subclass's other methods: take those of the user's classes.
    methods: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] in ("tunelab", "tunelab_keras", "builtins"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("__"):
                continue
            if isinstance(value, (types.FunctionType, staticmethod, classmethod, property)):
                methods[name] = value
    state = {}
    for key, value in vars(hooks).items():
        if key in _RESERVED or key.startswith("_") or callable(value):
            continue
        try:
            cloudpickle.dumps(value)
        except Exception:  # noqa: BLE001 - what cannot travel stays in the driver
            continue
        state[key] = value
    return {"hooks": {**methods, **overridden}, "tuner_state": state}


def _serve(context: TrialContext, connection: Connection, process: Any) -> Any:
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
            connection.send(context.report(metrics, step=step))
        elif kind == "objective":  # the child resolved the default objective
            from tunelab.objective import Objective

            context.set_objective(Objective.from_config(message[1]))
        elif kind == "done":
            return message[1]
        elif kind == "invalid":
            raise InvalidTrialError(message[1])
        elif kind == "fatal":
            raise SearchInputError(message[1])
        else:
            raise TrialProcessError(f"the trial failed in its process:\n{message[1]}")


class _DriverOracle:
    """The child's `tunelab.context.TrialOracle`: each report goes to the driver, whose
    oracle answers with the trial's status. No other trial is read in the child (the
    driver applies ``keep_best_models``; a parent model is loaded from its file)."""

    def __init__(self, connection: Connection, objective: Any) -> None:
        self.connection = connection
        self.objective = objective

    def update_trial(self, trial: Trial, metrics: dict[str, float], step: int = 0) -> str:
        self.connection.send(("epoch", metrics, step))
        status = self.connection.recv()
        trial.status = status
        return status

    def get_trial(self, trial_id: str) -> Trial:
        raise KeyError(f"trial {trial_id!r}: a trial's process reads no other trial")

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        return []


def _child_hooks(payload: dict[str, Any], oracle: _DriverOracle) -> Any:
    """The tuner's epoch/batch hooks in the child: an object of a class made of the user's
    tuner methods, holding the tuner's picklable attributes (None without hooks). Hooks
    written for a tuner may also read ``self.oracle`` (the objective; reports go to the
    driver), ``self.hypermodel``, ``self.backend_kwargs`` and ``self.project_dir``."""
    hooks = payload.get("hooks")
    if not hooks:
        return None
    owner = type("ChildTunerHooks", (), dict(hooks))()
    for key, value in payload.get("tuner_state", {}).items():
        setattr(owner, key, value)
    owner.oracle = oracle
    owner.hypermodel = payload["hypermodel"]
    owner.backend_kwargs = payload["options"]
    owner.project_dir = Path(payload["project_dir"])
    return owner


def _child_context(
    payload: dict[str, Any], connection: Connection, trial: Trial, settings: Any
) -> TrialContext:
    """The trial's context in the child: reports go to the driver; models are built from
    the hypermodel sent over, and saved to and loaded from the project's folder."""
    from tunelab.context import TrialContext, trial_dir
    from tunelab.hypermodel import build_hypermodel
    from tunelab.objective import Objective
    from tunelab_keras.checkpoints import MODEL_FILENAME, load_keras_model, save_keras_model
    from tunelab_keras.training import build_scope

    project_dir = Path(payload["project_dir"])
    hypermodel, args, kwargs = payload["hypermodel"], payload["args"], payload["kwargs"]

    def load(trial_id: str) -> Any:
        path = trial_dir(project_dir, trial_id) / MODEL_FILENAME
        if not path.exists():
            raise FileNotFoundError(path)
        # A continued trial (Hyperband) has its parent's values: what rebuilds its model.
        hp = trial.hyperparameters.copy()
        return load_keras_model(path, lambda: build_hypermodel(hypermodel, hp, args, kwargs))

    oracle = _DriverOracle(connection, Objective.from_config(payload["objective"]))
    return TrialContext(
        trial,
        oracle=oracle,
        options=payload["options"],
        project_dir=project_dir,
        build=lambda hp: build_hypermodel(hypermodel, hp, args, kwargs),
        save_model=lambda model: save_keras_model(
            model, trial_dir(project_dir, str(trial.trial_id)) / MODEL_FILENAME
        ),
        load_model=load,
        hypermodel=hypermodel,
        hooks=_child_hooks(payload, oracle),
        scope=lambda: build_scope(settings),
        record_meta=lambda key, value: connection.send((key, value)),
    )


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

        settings = KerasOptions.from_options({**payload["options"], "keep_best_models": None})
        trial = Trial(
            HyperParameters.from_config(payload["hyperparameters"]),
            trial_id=payload["trial_id"],
            status=TrialStatus.RUNNING,
        )
        context = _child_context(payload, connection, trial, settings)
        with build_scope(settings):
            model = build_model(context)
        batch_hooks = bool(overridden_hooks(context.hooks, BATCH_HOOKS))
        result = run_executions(
            context, model, settings, payload["args"], payload["kwargs"], batch_hooks=batch_hooks
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
