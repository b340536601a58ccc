"""KerasTuner's `keras_tuner.tuners.sklearn_tuner`: `SklearnTuner`, from the tunelab-sklearn
package, imported when first read (so importing this module does not load scikit-learn)."""

from __future__ import annotations

from typing import Any

from tunelab import tuners

# SklearnTuner is resolved by __getattr__ (a star import does not load scikit-learn).
__all__: list[str] = []


def __getattr__(name: str) -> Any:
    if name == "SklearnTuner":
        return tuners.lazy_backend_name(
            "tunelab_sklearn", "SklearnTuner", "tunelab-sklearn", f"kt.tuners.sklearn_tuner.{name}"
        )
    raise AttributeError(f"module 'tunelab.tuners.sklearn_tuner' has no attribute {name!r}")
