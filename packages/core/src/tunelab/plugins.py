"""The plugin registry: finds backends through pluggy, lazily, by entry point."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pluggy

from tunelab import hookspecs
from tunelab.backend import Backend
from tunelab.distributions import install_hint
from tunelab.errors import NotAModelError

__all__ = ["backend_for", "backend_named", "backend_options", "plugin_manager", "register"]

# Backends the core knows by name, to say which package to install when one is missing.
KNOWN_BACKENDS = {"sklearn": "tunelab-sklearn", "keras": "tunelab-keras"}


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The registry, with every installed backend loaded (on first use only)."""
    manager = pluggy.PluginManager("tunelab")
    manager.add_hookspecs(hookspecs)
    manager.load_setuptools_entrypoints("tunelab")
    return manager


def register(plugin: Any, name: str | None = None) -> None:
    """Register a plugin object (a module or class with `@hookimpl` functions) by hand."""
    plugin_manager().register(plugin, name=name)


def backend_for(model: Any) -> Backend:
    """The backend that owns `model`, or a `NotAModelError` (a TypeError) that says what to
    install."""
    backend = plugin_manager().hook.tunelab_backend_for(model=model)
    if backend is not None:
        return backend
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    hint = ""
    if kind.startswith(("sklearn", "xgboost", "lightgbm")):
        hint = f" Install the scikit-learn backend: {install_hint('tunelab-sklearn')}."
    elif kind.startswith(("keras", "tensorflow", "tf_keras")):
        hint = f" Install the Keras backend: {install_hint('tunelab-keras')}."
    raise NotAModelError(
        f"the hypermodel returned a {kind}, which no installed backend can train, and which "
        "is not a trial result (a number, a dict of metrics, or a list of dicts)." + hint
    )


def backend_named(name: str) -> Backend:
    backend = plugin_manager().hook.tunelab_backend_named(name=name)
    if backend is not None:
        return backend
    package = KNOWN_BACKENDS.get(name)
    if package:
        raise ImportError(f"backend {name!r} is not installed: {install_hint(package)}")
    raise ValueError(
        f"backend={name!r}: no installed backend has this name; known: {sorted(KNOWN_BACKENDS)}"
    )


def backend_options() -> set[str]:
    """Every tuner keyword argument some installed backend accepts."""
    options: set[str] = set()
    for names in plugin_manager().hook.tunelab_backend_options():
        options.update(names)
    return options
