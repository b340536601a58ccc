"""tunelab.pareto against brute force and closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tunelab.pareto import (
    crowding_distance,
    hypervolume,
    non_domination_ranks,
    pareto_front_mask,
    rank_order,
)


def _brute_mask(points):
    n = len(points)
    return np.array(
        [
            not any(
                np.all(points[j] <= points[i]) and np.any(points[j] < points[i])
                for j in range(n)
                if j != i
            )
            for i in range(n)
        ],
        dtype=bool,
    )


def _grid_hypervolume(points, reference, cells=64):
    """The dominated volume counted on a grid whose cells align with the points' values."""
    axes = [np.unique(np.r_[points[:, k], reference[k]]) for k in range(points.shape[1])]
    total = 0.0
    for corner in itertools.product(*(range(len(a) - 1) for a in axes)):
        low = np.array([axes[k][c] for k, c in enumerate(corner)])
        high = np.array([axes[k][c + 1] for k, c in enumerate(corner)])
        if np.any(np.all(points <= low, axis=1)):
            total += float(np.prod(high - low))
    return total


small_sets = arrays(
    float, st.tuples(st.integers(1, 12), st.integers(2, 3)), elements=st.integers(0, 5).map(float)
)


@settings(max_examples=60, deadline=None)
@given(small_sets)
def test_front_mask_matches_brute_force(points):
    assert pareto_front_mask(points).tolist() == _brute_mask(points).tolist()


@settings(max_examples=40, deadline=None)
@given(small_sets)
def test_hypervolume_matches_a_grid_count(points):
    reference = np.full(points.shape[1], 6.0)
    assert hypervolume(points, reference) == pytest.approx(_grid_hypervolume(points, reference))


@settings(max_examples=40, deadline=None)
@given(small_sets)
def test_ranks_peel_fronts(points):
    ranks = non_domination_ranks(points)
    for rank in range(ranks.max() + 1):
        remaining = points[ranks >= rank]
        assert sorted(map(tuple, remaining[_brute_mask(remaining)])) == sorted(
            map(tuple, points[ranks == rank])
        )


def test_directions_turn_maximized_columns():
    accuracy_and_size = np.array([[0.9, 10.0], [0.8, 5.0], [0.7, 20.0]])
    assert pareto_front_mask(accuracy_and_size, ["max", "min"]).tolist() == [True, True, False]
    assert hypervolume(accuracy_and_size, [0.5, 30.0], ["max", "min"]) == pytest.approx(
        0.4 * 20 + 0.3 * 5
    )


def test_hypervolume_of_a_known_front():
    f1 = np.linspace(0.0, 1.0, 2001)
    front = np.c_[f1, 1.0 - np.sqrt(f1)]  # ZDT1: area under the front is 1/3
    assert hypervolume(front, [1.0, 1.0]) == pytest.approx(2.0 / 3.0, abs=1e-3)
    # Points that do not dominate the reference add nothing.
    assert hypervolume([[2.0, 0.0]], [1.0, 1.0]) == 0.0


def test_crowding_and_rank_order():
    front = np.array([[0.0, 1.0], [0.1, 0.9], [0.5, 0.5], [1.0, 0.0]])
    distance = crowding_distance(front)
    assert np.isinf(distance[[0, 3]]).all()
    assert distance[2] > distance[1]  # [0.5, 0.5] is the lonelier inner point
    order, ranks = rank_order(np.vstack([front, [[2.0, 2.0]]]), violations=[0, 0, 0, 0, 0])
    assert ranks.tolist() == [0, 0, 0, 0, 1]
    assert order.tolist()[-1] == 4 and order.tolist()[2] == 2


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="directions"):
        pareto_front_mask([[1.0, 2.0]], ["min", "up"])
    with pytest.raises(ValueError, match="points has shape"):
        pareto_front_mask([1.0, 2.0])
    with pytest.raises(ValueError, match="reference"):
        hypervolume([[1.0, 2.0]], [3.0])
