"""Model files: one ``.keras`` file per trial with its best epoch's weights, and pruning so
that only the best trials keep theirs.

A model Keras cannot serialize or load safely (a subclassed ``keras.Model`` that is not
registered as serializable) is loaded by rebuilding it from the hypermodel with the trial's
hyperparameters and loading the saved weights; nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from tunelab.outcomes import objective_score
from tunelab.trial import TrialStatus

if TYPE_CHECKING:
    from tunelab.context import TrialContext

__all__ = [
    "MODEL_FILENAME",
    "kept_trials",
    "load_keras_model",
    "prune_models",
    "save_keras_model",
]

MODEL_FILENAME = "model.keras"
# The members of a .keras archive (Keras's names).
_METADATA, _CONFIG, _WEIGHTS = "metadata.json", "config.json", "model.weights.h5"


def _free_batch_size(model: Any) -> Any:
    """A Sequential model that Keras built on its first batch records that batch's size in
    its input shape; the saved model gets ``None`` there, so that it takes any batch size."""
    if not isinstance(model, keras.Sequential):
        return model
    config = model.get_config()
    layers = config.get("layers") or []
    if not layers or layers[0].get("class_name") != "InputLayer":
        return model
    shape = layers[0]["config"].get("batch_shape")
    if not shape or shape[0] is None:
        return model
    layers[0]["config"]["batch_shape"] = [None, *shape[1:]]
    free = keras.Sequential.from_config(config)
    free.set_weights(model.get_weights())
    compile_config = getattr(getattr(model, "_compile_config", None), "config", None)
    if getattr(model, "compiled", False) and compile_config:
        compile_config = dict(compile_config)
        optimizer = compile_config.get("optimizer")
        if isinstance(optimizer, keras.optimizers.Optimizer):
            compile_config["optimizer"] = type(optimizer).from_config(optimizer.get_config())
        free.compile(**compile_config)
        # Carry the optimizer's state over, so that the file loads without warnings and a
        # continued trial (Hyperband) resumes with it.
        if model.optimizer is not None and model.optimizer.built:
            free.optimizer.build(free.trainable_variables)
            if len(free.optimizer.variables) == len(model.optimizer.variables):
                for target, source in zip(
                    free.optimizer.variables, model.optimizer.variables, strict=True
                ):
                    target.assign(source)
    return free


def save_keras_model(model: Any, path: Path) -> None:
    """Save `model` to `path` atomically (a killed process leaves the old file or none)."""
    model = _free_batch_size(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".keras", dir=path.parent)
    os.close(handle)
    try:
        try:
            model.save(temporary, overwrite=True)
        except NotImplementedError:
            # A subclassed model whose __init__ takes arguments Keras cannot serialize (it
            # has no get_config): keep its weights; loading rebuilds it from the hypermodel.
            _save_weights_archive(model, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _save_weights_archive(model: Any, path: str) -> None:
    """A ``.keras`` archive with the weights and the build and compile configurations but
    no model configuration: `load_keras_model` loads its weights into a rebuilt model."""
    weights = Path(path).with_name(Path(path).stem + ".weights.h5")
    try:
        model.save_weights(weights)
        config = {
            "class_name": type(model).__name__,
            "module": type(model).__module__,
            "config": None,  # Keras could not serialize it: see load_keras_model
            "build_config": model.get_build_config(),
        }
        with contextlib.suppress(Exception):  # (an optimizer Keras cannot serialize either)
            config["compile_config"] = model.get_compile_config()
        metadata = {"keras_version": keras.__version__, "date_saved": time.strftime("%Y-%m-%d")}
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(_METADATA, json.dumps(metadata))
            archive.writestr(_CONFIG, json.dumps(config, default=str))
            archive.write(weights, _WEIGHTS)
    finally:
        weights.unlink(missing_ok=True)


def load_keras_model(path: Path, rebuild: Callable[[], Any] | None = None) -> Any:
    """Load a model saved by `save_keras_model`, compiled, with its weights.

    ``safe_mode`` stays on: a file holding Python lambdas is refused, not executed. When
    the file cannot be loaded that way (a subclassed model whose class is not registered
    as serializable, a Lambda layer, a model saved with its weights only) and `rebuild`
    is given, the model is rebuilt with it (the trial's hypermodel and hyperparameters),
    built as the saved one was, and loaded with the saved weights, as KerasTuner's
    ``load_model`` does; without `rebuild`, the loading error is raised.
    """
    try:
        return keras.saving.load_model(path, compile=True, safe_mode=True)
    except Exception as error:
        if rebuild is None:
            raise
        try:
            return _rebuilt_with_weights(path, rebuild)
        except Exception as second:
            raise second from error


def _call_once(model: Any, shape: Any) -> None:
    """Build a subclassed model by calling it on zeros: Keras's ``build_from_config``
    creates its weights but leaves it marked unbuilt, and ``load_weights`` refuses that."""
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape):
        model(keras.ops.zeros([1 if d is None else d for d in shape]))
    elif model.weights:
        model.built = True  # several inputs: the weights exist, as build_from_config made them


def _rebuilt_with_weights(path: Path, rebuild: Callable[[], Any]) -> Any:
    model = rebuild()
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"rebuilding the model of {path} gave a {type(model).__name__}, not a keras.Model"
        )
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read(_CONFIG))
    if not model.built and config.get("build_config"):
        model.build_from_config(config["build_config"])
        if not model.built:
            _call_once(model, config["build_config"].get("input_shape"))
    if not getattr(model, "compiled", False) and config.get("compile_config"):
        with contextlib.suppress(Exception):  # it trains as the hypermodel left it, then
            model.compile_from_config(config["compile_config"])
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)  # so that its saved state loads too
    model.load_weights(path)
    return model


def kept_trials(context: TrialContext, keep: int) -> tuple[set[str], bool]:
    """The ids of the best `keep` trials, counting the context's trial (not told yet), and
    whether that trial has a score to be ranked by."""
    trial = context.trial
    objective = context.objective
    ranked: list[tuple[float, str]] = []
    for best in context.get_best_trials(keep):
        if best.score is not None:
            ranked.append((best.score, best.trial_id))
    score, _ = objective_score(objective, trial.metrics)
    if score is not None:
        ranked.append((score, str(trial.trial_id)))
    ranked.sort(key=lambda item: -objective.sign() * item[0])
    return {trial_id for _, trial_id in ranked[:keep]}, score is not None


def prune_models(context: TrialContext, keep: int) -> list[str]:
    """Delete the model files of finished trials outside the best `keep` (counting the
    context's trial, which is not told yet); returns the ids whose files were deleted.

    Besides this trial, only trials known as finished lose their file: a trial still
    running in another worker or process (its model saved, its result not told yet) keeps it.
    """
    kept, _ = kept_trials(context, keep)
    deleted = []
    for path in context.project_dir.glob(f"trial_*/{MODEL_FILENAME}"):
        trial_id = path.parent.name[len("trial_") :]
        # This trial's own model goes when it ranks below the best; another trial's only
        # when that trial has finished.
        mine = trial_id == context.trial_id
        if trial_id not in kept and (mine or _finished(context, trial_id)):
            path.unlink(missing_ok=True)
            deleted.append(trial_id)
    return deleted


def _finished(context: TrialContext, trial_id: str) -> bool:
    """Whether `trial_id` is known as a finished trial (a worker knows only some)."""
    try:
        status = context.get_trial(trial_id).status
    except KeyError:
        return False
    return status not in (TrialStatus.RUNNING, TrialStatus.IDLE)
