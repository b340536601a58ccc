"""Model files: estimators saved with skops and loaded without running untrusted code.

skops stores an estimator as a zip of JSON and numpy arrays, not a pickle. Loading checks
every type the file names: skops trusts a set of its own; beyond those, this module trusts
only classes defined by scikit-learn, numpy and scipy (and numpy ufuncs). A file naming any
other type (a custom estimator, or a function that could run arbitrary code) is refused with
an error that lists those types; pass them in `trusted` if you trust the file.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["UntrustedModelError", "load_estimator", "save_estimator", "trusted_type"]

TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")


class UntrustedModelError(ValueError):
    """A model file names types outside the allow-list."""


def _resolve(name: str) -> Any:
    """The object a dotted name refers to, importing only from the trusted packages."""
    parts = name.split(".")
    if parts[0] not in TRUSTED_PACKAGES:
        return None
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        return obj
    return None


def trusted_type(name: str) -> bool:
    """Whether the allow-list trusts the type `name` (as `skops.io.get_untrusted_types`
    spells it): a class defined in scikit-learn, numpy or scipy, or a numpy ufunc.

    Examples
    --------
    >>> trusted_type("sklearn.tree._tree.Tree"), trusted_type("os.system")
    (True, False)
    """
    obj = _resolve(name)
    if obj is None:
        return False
    if isinstance(obj, np.ufunc):
        return True
    module = getattr(obj, "__module__", "") or ""
    return isinstance(obj, type) and module.split(".")[0] in TRUSTED_PACKAGES


def import_skops_soon() -> None:
    """Start importing skops in a background thread, once per process.

    skops takes about 0.5 s to import (it loads all of scikit-learn). A search that will
    save its best model calls this when it starts: the import then overlaps the
    cross-validation, where this process mostly waits for joblib's workers, instead of
    delaying the save at the end (measured: 4% of a 13 s search of 30 RandomForests).
    """
    if _SKOPS_IMPORT or "skops.io" in sys.modules:
        return
    thread = threading.Thread(
        target=importlib.import_module, args=("skops.io",), name="tunelab-import-skops"
    )
    _SKOPS_IMPORT.append(thread)
    thread.start()


_SKOPS_IMPORT: list[threading.Thread] = []  # the thread started by import_skops_soon


def save_estimator(estimator: Any, path: str | os.PathLike) -> None:
    """Save `estimator` to `path` with skops, atomically (a reader never sees half a file).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> path = tempfile.mkdtemp() + "/ridge.skops"
    >>> save_estimator(Ridge(alpha=2.0).fit([[0.0], [1.0]], [0.0, 1.0]), path)
    >>> load_estimator(path).alpha
    2.0
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    import skops.io  # slow to import (it loads all of scikit-learn): only when used

    try:
        skops.io.dump(estimator, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_estimator(path: str | os.PathLike, trusted: Iterable[str] = ()) -> Any:
    """Load an estimator saved by `save_estimator` (or `skops.io.dump`).

    Parameters
    ----------
    path : path
        The ``.skops`` file.
    trusted : iterable of str
        More type names to trust, for a file you trust that holds other types (e.g.
        ``["mypackage.MyEstimator"]``).

    Raises
    ------
    UntrustedModelError
        The file names types outside skops's defaults, the allow-list and `trusted`.
    """
    import skops.io

    path = Path(path)
    extra = set(trusted)
    untrusted = skops.io.get_untrusted_types(file=path)
    refused = sorted(t for t in untrusted if t not in extra and not trusted_type(t))
    if refused:
        raise UntrustedModelError(
            f"the model file {path} names types that tunelab does not trust: {refused}. "
            "Only classes of scikit-learn, numpy and scipy are loaded automatically. If you "
            "trust this file, load it with tunelab_sklearn.load_estimator(path, "
            f"trusted={refused!r})."
        )
    return skops.io.load(path, trusted=list(untrusted))
