"""The brackets of one Hyperband iteration: how many trials each round holds, for how long.

One Hyperband iteration runs the brackets `s = s_max, ..., 0`, where `s_max` is the largest
integer with `factor**s_max <= max_epochs`. Round `r` of bracket `s` trains its trials to
`ceil(max_epochs / factor**(s - r))` epochs; each round keeps the best of the previous one
and trains them `factor` times longer, up to `max_epochs`. The first bracket explores the
most, the last one trains a few configurations to `max_epochs` straight away.

How many trials each round holds follows KerasTuner 1.4 by default (``sizing="keras_tuner"``),
so that a KerasTuner user's `max_epochs` and `factor` run the same trials: with
`m = ceil(1 + log(max_epochs) / log(factor))`, round `r` of bracket `s` holds
`ceil(m / (s + 1) * factor**(s - r))` trials (e.g. 23 trials for max_epochs=9, factor=3; 2 for
max_epochs=2). ``sizing="paper"`` is the paper's recipe: bracket `s` starts
`n = ceil((s_max + 1) * factor**s / (s + 1))` configurations and each round keeps
`floor(n / factor**r)` (22 trials for max_epochs=9; 1 for max_epochs=2).
"""

from __future__ import annotations

import math

from tunelab.checks import check_int

__all__ = ["SIZINGS", "hyperband_brackets"]

SIZINGS = ("keras_tuner", "paper")


def hyperband_brackets(
    max_epochs: int, factor: int, sizing: str = "keras_tuner"
) -> list[list[tuple[int, int]]]:
    """The brackets of one Hyperband iteration, most exploratory first.

    Each bracket is a list of rounds ``(number of trials, epochs)``. `sizing` chooses how
    many trials a round holds: ``"keras_tuner"`` (KerasTuner 1.4's, the default) or
    ``"paper"`` (Li et al.); see the module docstring.

    Examples
    --------
    >>> hyperband_brackets(9, 3)
    [[(9, 1), (3, 3), (1, 9)], [(5, 3), (2, 9)], [(3, 9)]]
    >>> hyperband_brackets(9, 3, sizing="paper")
    [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    """
    max_epochs = check_int("max_epochs", max_epochs, 1)
    factor = check_int("factor", factor, 2)
    if sizing not in SIZINGS:
        raise ValueError(f"sizing={sizing!r}; expected one of {list(SIZINGS)}")
    s_max = 0
    while factor ** (s_max + 1) <= max_epochs:  # integers: no rounding error in log()
        s_max += 1
    # KerasTuner's last-round size; computed with the same float log() as KerasTuner so
    # that its rounding (e.g. log(125, 5) = 3.0000000000000004) gives the same trial counts.
    last = math.ceil(1 + math.log(max_epochs, factor))
    brackets = []
    for s in range(s_max, -1, -1):
        epochs = [-(-max_epochs // factor ** (s - r)) for r in range(s + 1)]
        if sizing == "paper":
            n = -(-(s_max + 1) * factor**s // (s + 1))
            sizes = [n // factor**r for r in range(s + 1)]
        else:
            sizes = [math.ceil(last / (s + 1) * factor ** (s - r)) for r in range(s + 1)]
        brackets.append(list(zip(sizes, epochs, strict=True)))
    return brackets
