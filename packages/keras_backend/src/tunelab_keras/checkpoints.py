"""Model files: one ``.keras`` file per trial with its best epoch's weights, and pruning so
that only the best trials keep theirs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import keras

from tunelab.oracles.outcomes import objective_score
from tunelab.trial import Trial

__all__ = ["MODEL_FILENAME", "load_keras_model", "prune_models", "save_keras_model"]

MODEL_FILENAME = "model.keras"


def save_keras_model(model: Any, path: Path) -> None:
    """Save `model` to `path` atomically (a killed process leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".keras", dir=path.parent)
    os.close(handle)
    try:
        model.save(temporary, overwrite=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_keras_model(path: Path) -> Any:
    """Load a model saved by `save_keras_model`, compiled, with its weights.

    ``safe_mode`` stays on: a file holding Python lambdas is refused, not executed.
    """
    return keras.saving.load_model(path, compile=True, safe_mode=True)


def prune_models(tuner: Any, trial: Trial, keep: int) -> list[str]:
    """Delete the model files of trials outside the best `keep` (counting `trial`, which is
    not told yet); returns the ids whose files were deleted."""
    oracle = tuner.oracle
    objective = oracle.objective
    ranked: list[tuple[float, str]] = []
    for best in oracle.get_best_trials(keep):
        if best.score is not None:
            ranked.append((best.score, best.trial_id))
    score, _ = objective_score(objective, trial.metrics)
    if score is not None:
        ranked.append((score, str(trial.trial_id)))
    ranked.sort(key=lambda item: -objective.sign() * item[0])
    kept = {trial_id for _, trial_id in ranked[:keep]}
    deleted = []
    for path in tuner.project_dir.glob(f"trial_*/{MODEL_FILENAME}"):
        trial_id = path.parent.name[len("trial_") :]
        if trial_id not in kept:
            path.unlink(missing_ok=True)
            deleted.append(trial_id)
    return deleted
