"""Initial designs: where the first trials go before any model of the objective exists.

A design is a set of points in the unit hypercube. `"random"` draws each point on its own;
`"lhs"` (Latin hypercube) and `"sobol"` (scrambled Sobol) spread a fixed number of points
evenly, so a small budget covers the space better. Both come from `scipy.stats.qmc`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DESIGNS", "design_points"]

DESIGNS = ("random", "lhs", "sobol")


def check_design(design: str) -> str:
    if design not in DESIGNS:
        raise ValueError(f"initial_design={design!r}; expected one of {DESIGNS}")
    return design


def design_points(design: str, n: int, dim: int, seed: int) -> np.ndarray:
    """`n` points of the design in `[0, 1)^dim` (rows), reproducible from `seed`."""
    check_design(design)
    if dim == 0 or n == 0:
        return np.zeros((n, dim))
    if design == "random":
        return np.random.default_rng(seed).random((n, dim))
    from scipy.stats import qmc  # imported here: only designs need it

    if design == "lhs":
        sampler = qmc.LatinHypercube(d=dim, seed=np.random.default_rng(seed))
        return sampler.random(n)
    sampler = qmc.Sobol(d=dim, scramble=True, seed=np.random.default_rng(seed))
    # Sobol points are balanced in powers of two; draw the next power and keep the first n.
    m = int(np.ceil(np.log2(max(n, 1))))
    return sampler.random_base2(m)[:n]
