"""What a tuner prints: the space and results summaries and the per-trial lines, in the
formats KerasTuner users know.

The per-trial lines go through a `write` function so that `tunelab.progress` can route them
around a progress bar (``tqdm.write``) instead of breaking it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunelab.hyperparameters import HyperParameters
    from tunelab.objective import Objective
    from tunelab.trial import Trial

__all__ = [
    "Display",
    "format_duration",
    "format_value",
    "hyperparameter_table",
    "results_summary_text",
    "search_space_summary_text",
]

# Width of the first two columns of the hyperparameter table (KerasTuner's layout).
COLUMN_WIDTH = 18


def format_duration(seconds: float) -> str:
    """``"01h 02m 03s"`` for 3723 seconds.

    Examples
    --------
    >>> format_duration(3723.4)
    '01h 02m 03s'
    """
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:02d}h {seconds % 3600 // 60:02d}m {seconds % 60:02d}s"


def format_value(value: Any, width: int = COLUMN_WIDTH) -> str:
    """A hyperparameter value as the table shows it: numbers with 5 significant digits,
    anything else cut to `width` characters.

    Examples
    --------
    >>> format_value(0.000123456789)
    '0.00012346'
    >>> format_value("a_very_long_activation_name")
    'a_very_long_act...'
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.5g}"
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def hyperparameter_table(values: dict[str, Any], best: dict[str, Any] | None) -> str:
    """The table printed before a trial: its values beside the best trial's so far.

    Examples
    --------
    >>> print(hyperparameter_table({"units": 64}, None))
    Value             |Best Value So Far |Hyperparameter
    64                |?                 |units
    """
    if not values:
        return "default configuration"
    row = f"{{:{COLUMN_WIDTH}}}|{{:{COLUMN_WIDTH}}}|{{}}"
    lines = [row.format("Value", "Best Value So Far", "Hyperparameter")]
    for name, value in values.items():
        best_value = "?" if best is None else best.get(name, "?")
        lines.append(row.format(format_value(value), format_value(best_value), name))
    return "\n".join(lines)


def search_space_summary_text(hyperparameters: HyperParameters) -> str:
    """The text of `tuner.search_space_summary()`."""
    space = hyperparameters.space
    lines = ["Search space summary", f"Default search space size: {len(space)}"]
    for hp in space:
        lines.append(f"{hp.name} ({hp.kind})")
        lines.append(repr(hp.summary_config()))
    return "\n".join(lines)


def results_summary_text(
    location: str, objective: Objective, trials: list[Trial], num_trials: int
) -> str:
    """The text of `tuner.results_summary()`."""
    lines = [
        "Results summary",
        f"Results in {location}",
        f"Showing {num_trials} best trials",
        repr(objective),
    ]
    for trial in trials:
        lines.append("")
        lines.append(trial.summary_text())
    return "\n".join(lines)


class Display:
    """KerasTuner's lines around each trial.

    Before a trial: ``Search: Running Trial #3`` and the table of its values beside the best
    trial's. After it: ``Trial 3 Complete [00h 00m 02s]``, its score, ``Best <metric> So
    Far: ...`` and ``Total elapsed time: ...``. ``verbose=0`` prints nothing.

    Parameters
    ----------
    objective : Objective
        What the search optimizes (its name heads the score lines).
    verbose : int
        0 prints nothing; 1 or more prints the lines.
    best : Trial, optional
        The best trial already in the project (a resumed search).
    write : callable, optional
        Prints one block of text (default `print`).

    Examples
    --------
    >>> from tunelab.objective import Objective
    >>> display = Display(Objective("loss", "min"), verbose=0)
    >>> display.best is None
    True
    """

    def __init__(
        self,
        objective: Objective,
        verbose: int = 1,
        best: Trial | None = None,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.objective = objective
        self.verbose = verbose
        self.start = time.time()
        self.best: float | None = None if best is None else best.score
        self.best_values: dict[str, Any] | None = (
            None if best is None else best.hyperparameters.active_values()
        )
        self.write = write or print

    def on_trial_begin(self, trial: Trial, number: int) -> None:
        """Print the trial's number and values (nothing when `verbose` is 0)."""
        if not self.verbose:
            return
        values = trial.hyperparameters.active_values()
        self.write(
            f"\nSearch: Running Trial #{number}\n\n"
            f"{hyperparameter_table(values, self.best_values)}\n"
        )

    def on_trial_end(self, trial: Trial, number: int) -> None:
        """Record the trial's score and print its result lines."""
        score = trial.score
        if (
            trial.status in ("COMPLETED", "STOPPED")
            and score is not None
            and math.isfinite(score)
            and (self.best is None or self.objective.better_than(score, self.best))
        ):
            self.best = score
            self.best_values = trial.hyperparameters.active_values()
        if not self.verbose:
            return
        name = self.objective.name
        took = format_duration((trial.ended_at or time.time()) - (trial.started_at or self.start))
        lines = [f"\nTrial {number} Complete [{took}]"]
        if trial.status in ("COMPLETED", "STOPPED"):
            lines.append(f"{name}: {score}")
        else:
            last = (trial.message or "").strip().splitlines()
            lines.append(f"Status: {trial.status}" + (f" ({last[-1]})" if last else ""))
        lines.append(f"\nBest {name} So Far: {self.best}")
        lines.append(f"Total elapsed time: {format_duration(time.time() - self.start)}")
        self.write("\n".join(lines))


def pareto_front_text(
    names: list[str],
    directions: list[str],
    front: list[tuple[str, list[float]]],
    constraints: dict[str, float] | None = None,
) -> str:
    """The Pareto front as a table: one row per trial, one column per objective.

    Parameters
    ----------
    names, directions : list of str
        The objectives' metric names and directions.
    front : list of (trial id, objective values)
    constraints : dict, optional
        ``{metric name: upper bound}``, named in the heading.

    Examples
    --------
    >>> print(pareto_front_text(["error", "size"], ["min", "min"], [("3", [0.1, 900.0])]))
    Pareto front: 1 trial (error min, size min)
    trial  error  size
    3      0.1    900
    """
    heading = f"Pareto front: {len(front)} trial{'s' if len(front) != 1 else ''} (" + ", ".join(
        f"{n} {d}" for n, d in zip(names, directions, strict=True)
    )
    if constraints:
        heading += "; subject to " + ", ".join(f"{n} <= {b:g}" for n, b in constraints.items())
    rows = [["trial", *names]] + [
        [str(trial_id), *(format_value(v) for v in values)] for trial_id, values in front
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [heading + ")"]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def front_summary_text(results: Any) -> str:
    """The Pareto front of a search's `tunelab.results.Results`, sorted by the first
    objective (what `results_summary` and ``tunelab pareto`` print)."""
    from tunelab.oracles.multi_objective import objectives_of

    objectives = objectives_of(results.objective)
    front = [
        (str(t.trial_id), values)
        for t, rank, values, violation in results.pareto_ranking()
        if rank == 0 and not violation
    ]
    front.sort(key=lambda row: row[1])
    return pareto_front_text(
        [o.name for o in objectives],
        [o.direction for o in objectives],
        front,
        results.constraints,
    )
