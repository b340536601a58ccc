"""The plugin contract: every hook a tunelab backend can implement.

Backends are pluggy plugins registered under the entry-point group ``tunelab``, e.g. in
a backend's pyproject.toml::

    [project.entry-points.tunelab]
    sklearn = "tunelab_sklearn.plugin"

Hooks are called with keyword arguments, so new hooks (and new arguments) can be added
without breaking existing plugins. A backend returns a `tunelab.backend.Backend`, which
knows how to fit, evaluate, save and load its framework's models.

What a backend receives
-----------------------
A backend never gets the tuner. For each trial the tuner makes a
`tunelab.context.TrialContext` and calls, in this order:

1. ``backend.build_scope(context)`` around building the trial's model, once the tuner knows
   the backend (from the second trial, or from the first with ``backend=``);
2. ``backend.validate_search(context, model, args, kwargs)`` for the first trial of each
   `search`, with the arguments of ``search(*args, **kwargs)``;
3. ``backend.run_trial(context, model, *args, **kwargs)``, which returns the trial's metrics
   (a number, a dict, a list of dicts) or None when it reported every step.

The context is all a backend may use:

=============================  ==========================================================
``context.trial``              the trial: id, ``hyperparameters``, status, metrics so far
``context.objective``          the search's `Objective`
``context.options``            the tuner's backend keyword arguments (``cv``, ``loss``...)
``context.project_dir``        the project's folder; ``context.trial_dir``: the trial's
``context.report(m, step)``    record a step's metrics; returns the trial's status, and
                               ``"STOPPED"`` means stop training (a pruner, Hyperband)
``context.build(hp)``          build the hypermodel (with the search's arguments) in the
                               backend's build scope
``context.save_model(model)``  save this trial's model (calls the backend's `save_model`)
``context.load_model(id)``     a trial's saved model (FileNotFoundError without one)
``context.get_trial(id)``,     other trials (KeyError when not readable here) and the
``get_best_trials(n)``         best finished ones, e.g. to keep the best N models
``context.hypermodel``         the hypermodel, for backends that call `HyperModel.fit`
``context.hooks``              the tuner's ``on_epoch_begin/end``, ``on_batch_begin/end``
``context.max_epochs``         a budgeted search's largest budget (Hyperband), else None
``context.set_objective(o)``   replace a default objective the user did not choose
=============================  ==========================================================

The same context is made wherever the trial runs: in the tuner's process, in a process
pool's or Dask's worker (reports then travel to the driver's oracle and its pruner, which
answers with the status; other trials are read from the snapshot sent with the task: the
10 best and the trial a Hyperband trial continues), and in the Keras backend's isolated
trial process. A backend need not, and cannot, tell which.

A backend written before the context, whose methods take ``tuner`` as first parameter
(``run_trial(tuner, trial, model, ...)``), is still called with the tuner.
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
