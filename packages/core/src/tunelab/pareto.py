"""Pareto fronts of objective vectors: dominance, non-domination ranks, crowding distance
and hypervolume (numpy only).

Every function takes `points`, an array of shape ``(n_points, n_objectives)``, and
`directions`, one ``"min"`` or ``"max"`` per objective (None: all minimized). A point
*dominates* another when it is at least as good in every objective and better in one; the
*front* is the set of points no other point dominates. Equal points do not dominate each
other, so duplicates of a front point are all on the front.

This module is the one place tunelab does this arithmetic: the multi-objective oracles
(`kt.oracles.NSGA2Oracle`, `kt.oracles.ParEGOOracle`), `oracle.get_pareto_front()`, the
results' rank column, the front plots and the benchmarks all use it.

Examples
--------
>>> from tunelab.pareto import pareto_front_mask, hypervolume
>>> points = [[0.9, 1000], [0.95, 5000], [0.85, 2000], [0.97, 9000]]  # accuracy, weights
>>> pareto_front_mask(points, ["max", "min"]).tolist()
[True, True, False, True]
>>> hypervolume([[1.0, 2.0], [2.0, 1.0]], reference=[3.0, 3.0])
3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_minimization",
    "crowding_distance",
    "dominates",
    "hypervolume",
    "non_domination_ranks",
    "pareto_front_mask",
    "rank_order",
]


def as_minimization(points: Any, directions: Sequence[str] | None = None) -> np.ndarray:
    """`points` as a float array of shape (n, m) in which every column is minimized
    (columns to maximize are negated).

    >>> as_minimization([[1.0, 2.0]], ["max", "min"]).tolist()
    [[-1.0, 2.0]]
    """
    array = np.asarray(points, dtype=float)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, len(directions) if directions is not None else 1)
    if array.ndim != 2:
        raise ValueError(
            f"points has shape {array.shape}; expected (n_points, n_objectives), a 2-D array"
        )
    if directions is None:
        return array.copy()
    directions = list(directions)
    if len(directions) != array.shape[1]:
        raise ValueError(
            f"directions={directions!r} has {len(directions)} entries; expected one per "
            f"objective ({array.shape[1]})"
        )
    bad = [d for d in directions if d not in ("min", "max")]
    if bad:
        raise ValueError(f"directions={directions!r}; expected each entry 'min' or 'max'")
    signs = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return array * signs


def dominates(a: Any, b: Any, directions: Sequence[str] | None = None) -> bool:
    """Whether point `a` dominates point `b`.

    >>> dominates([1, 2], [1, 3]), dominates([1, 2], [1, 2])
    (True, False)
    """
    pa, pb = as_minimization([a, b], directions)
    return bool(np.all(pa <= pb) and np.any(pa < pb))


def _dominated_by_any(candidates: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each row of `candidates`, whether a row of `points` dominates it."""
    if len(points) == 0 or len(candidates) == 0:
        return np.zeros(len(candidates), dtype=bool)
    no_worse = np.all(points[None, :, :] <= candidates[:, None, :], axis=2)
    better = np.any(points[None, :, :] < candidates[:, None, :], axis=2)
    return np.any(no_worse & better, axis=1)


def pareto_front_mask(points: Any, directions: Sequence[str] | None = None) -> np.ndarray:
    """A boolean mask of the points on the Pareto front (dominated by no other point).

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
    directions : sequence of {"min", "max"}, optional
        One per objective; None minimizes every objective.

    Returns
    -------
    numpy.ndarray of bool, shape (n_points,)

    Examples
    --------
    >>> pareto_front_mask([[1, 4], [2, 2], [3, 3], [4, 1]]).tolist()
    [True, True, False, True]
    """
    array = as_minimization(points, directions)
    mask = np.zeros(len(array), dtype=bool)
    if len(array) == 0:
        return mask
    if array.shape[1] == 2:
        return _front_mask_2d(array)
    # Sorting by the sum first puts every dominating point before those it dominates, so
    # each point is compared with the (small) front found so far only.
    order = np.lexsort(array.T[::-1])
    order = order[np.argsort(array[order].sum(axis=1), kind="stable")]
    front: list[int] = []
    for index in order:
        if not _dominated_by_any(array[index][None, :], array[front])[0]:
            front.append(int(index))
    mask[front] = True
    return mask


def _front_mask_2d(array: np.ndarray) -> np.ndarray:
    """The front of two minimized objectives in O(n log n): sorted by the first, a point is
    on it when its second is below that of every point with a smaller first (and it is
    the smallest second among the points sharing its first)."""
    order = np.lexsort((array[:, 1], array[:, 0]))
    x, y = array[order, 0], array[order, 1]
    starts = np.r_[True, x[1:] != x[:-1]]  # first member of each group of equal x
    group = np.cumsum(starts) - 1
    group_min = y[starts]  # sorted by y within a group: its first is its minimum
    before = np.r_[np.inf, np.minimum.accumulate(group_min)[:-1]]  # best y of smaller x
    on_front = (y == group_min[group]) & (y < before[group])
    mask = np.zeros(len(array), dtype=bool)
    mask[order[on_front]] = True
    return mask


def non_domination_ranks(points: Any, directions: Sequence[str] | None = None) -> np.ndarray:
    """Each point's non-domination rank: 0 on the Pareto front, 1 on the front of what is
    left once rank 0 is removed, and so on.

    >>> non_domination_ranks([[1, 4], [2, 2], [3, 3], [4, 4]]).tolist()
    [0, 0, 1, 2]
    """
    array = as_minimization(points, directions)
    ranks = np.full(len(array), -1, dtype=int)
    remaining = np.arange(len(array))
    rank = 0
    while len(remaining):
        mask = pareto_front_mask(array[remaining])
        ranks[remaining[mask]] = rank
        remaining = remaining[~mask]
        rank += 1
    return ranks


def crowding_distance(points: Any, directions: Sequence[str] | None = None) -> np.ndarray:
    """NSGA-II's crowding distance of each point within `points` (usually one front): the
    sum over objectives of the gap between its two neighbours, in units of that objective's
    range. The extreme points of each objective get infinity, so they are kept first.

    >>> crowding_distance([[0, 4], [1, 2], [2, 1], [4, 0]]).round(3).tolist()
    [inf, 1.25, 1.25, inf]
    """
    array = as_minimization(points, directions)
    n, m = array.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for column in range(m):
        order = np.argsort(array[:, column], kind="stable")
        values = array[order, column]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def rank_order(
    points: Any,
    directions: Sequence[str] | None = None,
    violations: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The order that ranks points best first, and each point's rank.

    Feasible points (violation 0) come first, by non-domination rank, and within a rank by
    decreasing crowding distance (spread-out points first). Infeasible points follow, by
    increasing total violation; their rank continues after the feasible ranks.

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
    directions : sequence of {"min", "max"}, optional
    violations : array-like of shape (n_points,), optional
        How far each point is from satisfying its constraints (0 when it satisfies them).

    Returns
    -------
    order : numpy.ndarray of int
        Indices of `points`, best first.
    ranks : numpy.ndarray of int
        The rank of each point (0: the feasible Pareto front).

    Examples
    --------
    >>> order, ranks = rank_order([[1, 4], [2, 2], [0, 0], [3, 3]], violations=[0, 0, 1, 0])
    >>> order.tolist(), ranks.tolist()
    ([0, 1, 3, 2], [0, 0, 2, 1])
    """
    array = as_minimization(points, directions)
    n = len(array)
    violation = np.zeros(n) if violations is None else np.asarray(violations, dtype=float)
    if violation.shape != (n,):
        raise ValueError(f"violations has shape {violation.shape}; expected ({n},)")
    feasible = np.flatnonzero(violation <= 0)
    infeasible = np.flatnonzero(violation > 0)
    ranks = np.zeros(n, dtype=int)
    crowding = np.zeros(n)
    if len(feasible):
        ranks[feasible] = non_domination_ranks(array[feasible])
        for rank in np.unique(ranks[feasible]):
            members = feasible[ranks[feasible] == rank]
            crowding[members] = crowding_distance(array[members])
    worst = int(ranks[feasible].max()) + 1 if len(feasible) else 0
    order_feasible = feasible[np.lexsort((-crowding[feasible], ranks[feasible]))]
    order_infeasible = infeasible[np.argsort(violation[infeasible], kind="stable")]
    for offset, index in enumerate(order_infeasible):
        ranks[index] = worst + offset
    return np.concatenate([order_feasible, order_infeasible]).astype(int), ranks


def hypervolume(points: Any, reference: Any, directions: Sequence[str] | None = None) -> float:
    """The hypervolume dominated by `points` and bounded by the `reference` point: the
    measure of the region every point of which some point dominates and which dominates the
    reference. Larger is better; points that do not dominate the reference add nothing.

    Exact for any number of objectives (a sweep in 2-D, slices of 2-D sweeps in 3-D and
    above); meant for the few hundred points of a search, in 2 or 3 objectives.

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
    reference : array-like of shape (n_objectives,)
        In the same units and directions as `points`.
    directions : sequence of {"min", "max"}, optional

    Examples
    --------
    >>> hypervolume([[1, 1, 1]], reference=[2, 2, 2])
    1.0
    >>> hypervolume([[0.9, 10.0]], reference=[0.5, 20.0], directions=["max", "min"])
    4.0
    """
    array = as_minimization(points, directions)
    ref = as_minimization(np.asarray(reference, dtype=float)[None, :], directions)[0]
    if ref.shape != (array.shape[1],):
        raise ValueError(
            f"reference={reference!r}; expected {array.shape[1]} values, one per objective"
        )
    inside = array[np.all(array < ref, axis=1)]
    if len(inside) == 0:
        return 0.0
    inside = inside[pareto_front_mask(inside)]
    return float(_hypervolume(inside, ref))


def _hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    m = points.shape[1]
    if m == 1:
        return float(ref[0] - points[:, 0].min())
    if m == 2:
        order = np.argsort(points[:, 0], kind="stable")
        x, y = points[order, 0], points[order, 1]
        # On a front sorted by the first objective the second decreases.
        best_y = np.minimum.accumulate(y)
        widths = np.diff(np.append(x, ref[0]))
        return float(np.sum(widths * (ref[1] - best_y)))
    # Slice along the last objective: between two consecutive values the slice is the
    # (m-1)-dimensional hypervolume of the points at or below it.
    order = np.argsort(points[:, -1], kind="stable")
    levels = np.append(points[order, -1], ref[-1])
    total = 0.0
    for k in range(len(order)):
        height = levels[k + 1] - levels[k]
        if height <= 0:
            continue
        below = points[order[: k + 1], :-1]
        below = below[pareto_front_mask(below)]
        total += height * _hypervolume(below, ref[:-1])
    return total
