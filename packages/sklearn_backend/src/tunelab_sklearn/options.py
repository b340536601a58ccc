"""The names of the scikit-learn backend's tuner arguments.

They are checked by `tunelab_sklearn.backend.CVSettings`; they live here, in a module that
imports nothing, so that the plugin (loaded at startup) can list them without scikit-learn.
"""

from __future__ import annotations

__all__ = ["OPTIONS"]

# The tuner keyword arguments this backend accepts (the fields of CVSettings).
OPTIONS = (
    "scoring",
    "metrics",
    "cv",
    "refit",
    "n_jobs",
    "error_score",
    "return_train_score",
    "resource",
    "resource_per_epoch",
)
