"""`TuneSearchCV`'s search space: tunelab hyperparameters, lists and scipy distributions.

Every entry becomes a tunelab hyperparameter (so every oracle works on it) plus a decoder
from the trial's value to the estimator parameter:

- a tunelab definition (``kt.HyperParameters.Float("C", 1e-3, 1e3, sampling="log")``) is
  used as it is (renamed to its key);
- a list of numbers, strings or bools of one type is a ``Choice`` over those values; any
  other list (``[None, 5, 10]``, estimators, ``"passthrough"`` with objects) is a ``Choice``
  over the positions in the list, decoded back to the item;
- ``scipy.stats.uniform``, ``loguniform`` and ``randint`` become ``Float``, log-scaled
  ``Float`` and ``Int`` with the same bounds, so a model-based oracle sees their geometry;
- any other scipy distribution is a ``Float`` quantile in [0, 1], decoded with the
  distribution's inverse CDF (``ppf``): a uniform quantile gives exactly the distribution's
  samples, and the oracle searches the space where the distribution puts equal mass
  equally wide. Discrete distributions decode to ints.

A list of such dicts (scikit-learn's ``param_grid=[{...}, {...}]``) is their union: a
``Choice`` named ``param_grid#`` picks one dict, and that dict's entries are named
``param_grid#<i>/<parameter>`` and active only when it is picked, so a grid search runs
each dict's grid in turn and a random search draws a dict, then values from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tunelab.hyperparameters import HyperParameter, HyperParameters

__all__ = ["SearchSpace", "build_search_space"]

# Keeps the inverse CDF of an unbounded distribution finite at the cube's edges.
_QUANTILE_EPS = 1e-9
# The hyperparameter that picks one dict of a list of dicts (not a valid parameter name).
SELECTOR = "param_grid#"


def _identity(value: Any) -> Any:
    return value


class SearchSpace:
    """tunelab hyperparameters and, for each, how a trial's value becomes a parameter.

    Attributes
    ----------
    hyperparameters : HyperParameters
        The space the oracle searches.
    decoders : dict of str -> callable
        Trial value -> estimator parameter value.
    """

    def __init__(
        self,
        hyperparameters: HyperParameters,
        decoders: dict[str, Callable[[Any], Any]],
        parameters: dict[str, str | None] | None = None,
    ) -> None:
        self.hyperparameters = hyperparameters
        self.decoders = decoders
        # Hyperparameter name -> estimator parameter (None: none, e.g. the dict selector);
        # names not listed are the parameter's own.
        self.parameters = dict(parameters or {})

    @property
    def names(self) -> list[str]:
        return [hp.name for hp in self.hyperparameters.space]

    @property
    def parameter_names(self) -> list[str]:
        """The estimator parameters the space sets (each once, in space order)."""
        found = (self.parameters.get(name, name) for name in self.names)
        return list(dict.fromkeys(name for name in found if name is not None))

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The estimator parameters of a trial's (active) values, in space order."""
        params = {}
        for name in self.names:
            parameter = self.parameters.get(name, name)
            if name in values and parameter is not None:
                params[parameter] = self.decoders.get(name, _identity)(values[name])
        return params


def _definition(name: str, definition: HyperParameter) -> dict[str, Any]:
    config = definition.get_config()
    config["name"] = name
    return {"class_name": definition.kind, "config": config}


def _choice(name: str, values: list[Any]) -> tuple[dict[str, Any], Callable[[Any], Any]]:
    if not values:
        raise ValueError(f"search_space[{name!r}] is an empty list; expected values to try")
    plain = [v.item() if isinstance(v, np.generic) else v for v in values]
    kinds = {type(v) for v in plain}
    if len(kinds) == 1 and kinds <= {int, float, str, bool} and len(set(plain)) == len(plain):
        config = {"name": name, "values": plain, "ordered": None, "default": None, "conditions": []}
        return {"class_name": "Choice", "config": config}, _identity
    # Mixed or rich values: choose a position in the list, decoded back to the item.
    items = list(values)
    config = {
        "name": name,
        "values": list(range(len(items))),
        "ordered": False,
        "default": None,
        "conditions": [],
    }
    return {"class_name": "Choice", "config": config}, items.__getitem__


def _numeric(kind: str, name: str, low: Any, high: Any, sampling: str = "linear") -> dict:
    config = {
        "name": name,
        "min_value": low,
        "max_value": high,
        "step": None,
        "sampling": sampling,
        "default": None,
        "conditions": [],
    }
    return {"class_name": kind, "config": config}


def _distribution(name: str, dist: Any) -> tuple[dict[str, Any], Callable[[Any], Any]]:
    from scipy import stats

    family = getattr(getattr(dist, "dist", None), "name", None)
    if family is not None and hasattr(dist, "support"):
        low, high = (float(b) for b in dist.support())
        if family == "uniform" and low < high:
            return _numeric("Float", name, low, high), _identity
        if (
            family in ("loguniform", "reciprocal")
            and dist.kwds.get("loc", 0) == 0
            and 0 < low < high
        ):
            return _numeric("Float", name, low, high, "log"), _identity
        if family == "randint" and low < high:
            return _numeric("Int", name, int(low), int(high)), _identity
    if not callable(getattr(dist, "ppf", None)):
        raise TypeError(
            f"search_space[{name!r}]={dist!r} can be sampled (rvs) but not inverted (no "
            "ppf); tunelab oracles need a scipy.stats distribution, a list, or a tunelab "
            "hyperparameter"
        )
    discrete = isinstance(getattr(dist, "dist", None), stats.rv_discrete)

    def decode(u: float) -> Any:
        value = dist.ppf(min(max(float(u), _QUANTILE_EPS), 1.0 - _QUANTILE_EPS))
        return int(value) if discrete else float(value)

    return _numeric("Float", name, 0.0, 1.0), decode


def build_search_space(search_space: Any) -> SearchSpace:
    """Turn what users pass as `search_space` into a `SearchSpace`.

    Parameters
    ----------
    search_space : dict, list of dicts or HyperParameters
        Parameter name (as in ``estimator.get_params()``) -> tunelab hyperparameter, list
        of values, or scipy.stats distribution; a list of such dicts (their union, as
        scikit-learn's ``param_grid``); or a ``kt.HyperParameters`` whose names are
        parameter names (conditional scopes work).

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> space = build_search_space({"C": loguniform(1e-3, 1e3), "penalty": ["l1", "l2"]})
    >>> [hp.kind for hp in space.hyperparameters.space]
    ['Float', 'Choice']
    """
    if isinstance(search_space, HyperParameters):
        return SearchSpace(search_space.copy(), {})
    if (
        isinstance(search_space, (list, tuple))
        and search_space
        and all(isinstance(entry, Mapping) for entry in search_space)
    ):
        return _union(search_space)
    if not isinstance(search_space, Mapping):
        raise TypeError(
            f"search_space={search_space!r:.100}; expected a dict parameter name -> tunelab "
            "hyperparameter, list of values or scipy.stats distribution (or a "
            "kt.HyperParameters)"
        )
    if not search_space:
        raise ValueError("search_space={}: expected at least one parameter to tune")
    configs, decoders = [], {}
    for name, spec in search_space.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"search_space: key {name!r} is not a parameter name")
        if isinstance(spec, HyperParameter):
            config, decoder = _definition(name, spec), _identity
        elif isinstance(spec, (list, tuple, np.ndarray)):
            config, decoder = _choice(name, list(spec))
        elif callable(getattr(spec, "rvs", None)):
            config, decoder = _distribution(name, spec)
        else:
            raise TypeError(
                f"search_space[{name!r}]={spec!r:.100}; expected a tunelab hyperparameter "
                "(e.g. kt.HyperParameters.Int(name, 1, 10)), a list of values, or a "
                "scipy.stats distribution"
            )
        configs.append(config)
        decoders[name] = decoder
    try:
        hyperparameters = HyperParameters.from_config({"space": configs, "values": {}})
    except (TypeError, ValueError) as error:
        raise ValueError(f"search_space: {error}") from None
    return SearchSpace(hyperparameters, decoders)


def _union(grids: list[Mapping[str, Any]] | tuple[Mapping[str, Any], ...]) -> SearchSpace:
    """The space of a list of dicts (scikit-learn's list form): see the module docstring."""
    if len(grids) == 1:
        return build_search_space(grids[0])
    configs: list[dict[str, Any]] = [
        {
            "class_name": "Choice",
            "config": {
                "name": SELECTOR,
                "values": list(range(len(grids))),
                "ordered": False,
                "default": None,
                "conditions": [],
            },
        }
    ]
    decoders: dict[str, Callable[[Any], Any]] = {}
    parameters: dict[str, str | None] = {SELECTOR: None}
    for index, grid in enumerate(grids):
        try:
            part = build_search_space(grid)
        except (TypeError, ValueError) as error:
            raise type(error)(f"param_grid[{index}]: {error}") from None
        condition = {"class_name": "Parent", "config": {"name": SELECTOR, "values": [index]}}
        for definition in part.hyperparameters.space:
            name = f"{SELECTOR}{index}/{definition.name}"
            config = definition.get_config()
            config["name"] = name
            config["conditions"] = [condition, *config.get("conditions", [])]
            configs.append({"class_name": definition.kind, "config": config})
            decoders[name] = part.decoders.get(definition.name, _identity)
            parameters[name] = part.parameters.get(definition.name, definition.name)
    hyperparameters = HyperParameters.from_config({"space": configs, "values": {}})
    return SearchSpace(hyperparameters, decoders, parameters)
