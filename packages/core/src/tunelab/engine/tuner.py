"""KerasTuner's `keras_tuner.engine.tuner`: the Keras `Tuner` and `maybe_distribute`.

`Tuner` lives in the Keras backend (the tunelab-keras package); it is imported when first
read, so importing this module does not load Keras.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tunelab import tuners

# Tuner is resolved by __getattr__ (a star import does not load Keras).
__all__ = ["maybe_distribute"]


@contextlib.contextmanager
def maybe_distribute(distribution_strategy: Any = None) -> Iterator[None]:
    """Run the block inside ``distribution_strategy.scope()``, or as is when it is None.

    Parameters
    ----------
    distribution_strategy : tf.distribute.Strategy or None
        Any object with a ``scope()`` context manager.

    Examples
    --------
    >>> from tunelab.engine.tuner import maybe_distribute
    >>> with maybe_distribute(None):
    ...     print("no strategy")
    no strategy
    """
    if distribution_strategy is None:
        yield
        return
    with distribution_strategy.scope():
        yield


def __getattr__(name: str) -> Any:
    if name == "Tuner":
        return tuners.lazy_backend_name(
            "tunelab_keras", "Tuner", "tunelab-keras", "kt.engine.tuner.Tuner"
        )
    raise AttributeError(f"module 'tunelab.engine.tuner' has no attribute {name!r}")
