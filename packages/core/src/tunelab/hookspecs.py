"""The plugin contract: every hook a tunelab backend can implement.

Backends are pluggy plugins registered under the entry-point group ``tunelab``, e.g. in
a backend's pyproject.toml::

    [project.entry-points.tunelab]
    sklearn = "tunelab_sklearn.plugin"

Hooks are called with keyword arguments, so new hooks (and new arguments) can be added
without breaking existing plugins. A backend returns a `tunelab.backend.Backend`, which
knows how to fit, evaluate, save and load its framework's models.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("tunelab")
hookimpl = pluggy.HookimplMarker("tunelab")


@hookspec(firstresult=True)
def tunelab_backend_for(model: Any) -> Any:
    """Does this model belong to you?

    Called with what a hypermodel's `build(hp)` returned, when that is not a trial result
    (a number or a dict of metrics). Return your `Backend` if you can fit and evaluate
    `model`, else None. The first non-None answer wins.
    """


@hookspec(firstresult=True)
def tunelab_backend_named(name: str) -> Any:
    """Return your `Backend` if its name is `name` (e.g. ``"sklearn"``), else None.

    Used for an explicit ``backend=`` tuner argument and to load a saved project's models.
    """


@hookspec
def tunelab_backend_options() -> Any:
    """Return the names of the tuner keyword arguments your backend accepts (a list).

    The tuner rejects keyword arguments that no installed backend accepts, with a clear
    error; each backend validates the values of its own arguments.
    """
