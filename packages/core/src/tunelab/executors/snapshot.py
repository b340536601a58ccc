"""The best trials as a worker may read them: the snapshot sent with each trial's task."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tunelab.hyperparameters import HyperParameter

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = ["best_configs"]


class _BestSnapshot:
    """The configs of the best trials as last sent to workers, kept per study: a config is
    built again only when its trial's row or the search space changed (most tasks of a
    search find the same 10 best trials as the task before)."""

    def __init__(self) -> None:
        self.space: tuple[HyperParameter, ...] = ()
        self.configs: dict[str, tuple[tuple, dict[str, Any]]] = {}
        self.sent: dict[str, dict[str, Any]] = {}


_SNAPSHOTS: weakref.WeakKeyDictionary[Any, _BestSnapshot] = weakref.WeakKeyDictionary()


def _same_row(a: tuple, b: tuple) -> bool:
    # The parsed metrics (last item) are compared by identity: a storage shares the dict
    # between reads of an unchanged row, and a new dict only costs a rebuild.
    return a[:-1] == b[:-1] and a[-1] is b[-1]


def best_configs(
    oracle: Oracle, n: int, wrap: Callable[[dict[str, dict[str, Any]]], dict] = dict
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The ids of the oracle's best finished trials and their configs (`Trial.get_config`),
    as `oracle.get_best_trials(n)` gives them, for the tasks sent to workers. The configs
    come as `wrap(configs)`, made again only when they changed (callers must not change
    it)."""
    from tunelab.oracles.base import Oracle

    study = oracle._study
    if study is None:
        return [], {}
    if type(oracle).get_best_trials is not Oracle.get_best_trials:  # its own answer: ask it
        best = oracle.get_best_trials(n)
        return [t.trial_id for t in best], wrap({t.trial_id: t.get_config() for t in best})  # type: ignore[misc]
    snapshot = _SNAPSHOTS.get(study)
    if snapshot is None:
        snapshot = _SNAPSHOTS[study] = _BestSnapshot()
    space = tuple(oracle.hyperparameters._space.values())
    if len(space) != len(snapshot.space) or any(
        a is not b for a, b in zip(space, snapshot.space, strict=True)
    ):
        # A definition was added or replaced (define-by-run): every config changes.
        snapshot.space, snapshot.configs = space, {}
    rows = study.storage.best_trials(n, oracle.objective.direction)
    configs: dict[str, tuple[tuple, dict[str, Any]]] = {}
    for row in rows:
        key = (row.values_json, row.status, row.score, row.best_step, row.message)
        key += (row.metrics_config,)
        kept = snapshot.configs.get(row.trial_id)
        if kept is None or not _same_row(kept[0], key):
            kept = (key, study.to_trial(row).get_config())
        configs[row.trial_id] = kept
    unchanged = list(configs) == list(snapshot.sent) and all(
        kept[1] is snapshot.sent[t] for t, kept in configs.items()
    )
    if not unchanged:
        snapshot.sent = wrap({t: kept[1] for t, kept in configs.items()})
    snapshot.configs = configs
    return [row.trial_id for row in rows], snapshot.sent
