"""The best trials as a worker may read them: the snapshot sent with each trial's task."""

from __future__ import annotations

import pickle
import weakref
from typing import TYPE_CHECKING, Any

from tunelab.hyperparameters import HyperParameter

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = ["Snapshot", "best_configs"]


# In a worker: the last snapshot received, by its bytes. Consecutive tasks mostly carry the
# same one; each task gets its own dict over the same configs, which readers only copy from
# (`Trial.from_config`).
_RECEIVED: dict[bytes, dict[str, dict[str, Any]]] = {}


def _restore(data: bytes) -> dict[str, dict[str, Any]]:
    known = _RECEIVED.get(data)
    if known is None:
        known = pickle.loads(data)
        _RECEIVED.clear()
        _RECEIVED[data] = known
    return dict(known)


class Snapshot(dict):
    """Trial configs by id, as sent with each task: pickled once, when built, and then sent
    as those bytes (every task carries the same snapshot until the best trials change). A
    worker unpickles a plain dict. Not to be changed: copy it (``dict(snapshot)``) first."""

    def __init__(self, configs: dict[str, dict[str, Any]]) -> None:
        super().__init__(configs)
        self.data = pickle.dumps(dict(configs), protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, tuple[bytes]]:
        return (_restore, (self.data,))


class _BestSnapshot:
    """The configs of the best trials as last sent to workers, kept per study: a config is
    built again only when its trial's row or the search space changed (most tasks of a
    search find the same 10 best trials as the task before)."""

    def __init__(self) -> None:
        self.space: tuple[HyperParameter, ...] = ()
        self.configs: dict[str, tuple[tuple, dict[str, Any]]] = {}
        self.sent: Snapshot = Snapshot({})


_SNAPSHOTS: weakref.WeakKeyDictionary[Any, _BestSnapshot] = weakref.WeakKeyDictionary()


def _same_row(a: tuple, b: tuple) -> bool:
    # The parsed metrics (last item) are compared by identity: a storage shares the dict
    # between reads of an unchanged row, and a new dict only costs a rebuild.
    return a[:-1] == b[:-1] and a[-1] is b[-1]


def best_configs(oracle: Oracle, n: int) -> tuple[list[str], Snapshot]:
    """The ids of the oracle's best finished trials and their configs (`Trial.get_config`),
    as `oracle.get_best_trials(n)` gives them, for the tasks sent to workers."""
    from tunelab.oracles.base import Oracle

    study = oracle._study
    if study is None:
        return [], {}
    if type(oracle).get_best_trials is not Oracle.get_best_trials:  # its own answer: ask it
        best = oracle.get_best_trials(n)
        return [t.trial_id for t in best], Snapshot({t.trial_id: t.get_config() for t in best})  # type: ignore[misc]
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
        snapshot.sent = Snapshot({t: kept[1] for t, kept in configs.items()})
    snapshot.configs = configs
    return [row.trial_id for row in rows], snapshot.sent
