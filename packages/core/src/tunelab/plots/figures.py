"""What every plot shares: a pyplot-free figure, saving it, and the columns it draws."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunelab.display import format_value
from tunelab.results import Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

IMAGE_FORMATS = ("png", "svg")
# Values Hyperband adds to a trial (budget, bracket, parent): bookkeeping, not axes to plot.
BOOKKEEPING_PREFIX = "tuner/"


def require_matplotlib() -> None:
    """An ImportError that says what to install, before a plot imports matplotlib's parts."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "tunelab.plots needs matplotlib, which is not installed: pip install "
            "'matplotlib>=3.6' (or pip install './packages/core[plot]' from a checkout)"
        ) from error


def new_figure(width: float, height: float) -> Figure:
    """A figure not registered with pyplot: no window, no global state."""
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Save `figure` as PNG or SVG (chosen by the suffix of `path`).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> save_figure(Figure(), "/tmp/tunelab-doc/empty.svg").suffix
    '.svg'
    """
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in IMAGE_FORMATS:
        raise ValueError(
            f"path={str(path)!r}: cannot tell the image format; expected a file name ending "
            f"in {' or '.join('.' + f for f in IMAGE_FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=suffix, dpi=120)
    return path


def finish(figure: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        save_figure(figure, path)
    return figure


def need_finished(results: Results, what: str) -> None:
    if not results.finished:
        raise ValueError(
            f"cannot plot {what}: no finished trial with a score among "
            f"{len(results.trials)} trial(s)"
        )


def columns(results: Results) -> list[tuple[str, Any]]:
    """Tunable hyperparameters with their definition (None when only found in trials);
    Fixed ones and Hyperband's ``tuner/`` entries are left out."""
    space = {hp.name: hp for hp in results.hyperparameters.space}
    return [
        (n, space.get(n))
        for n in results.hyperparameter_names()
        if not n.startswith(BOOKKEEPING_PREFIX)
        and (space.get(n) is None or space[n].kind != "Fixed")
    ]


def is_categorical(definition: Any) -> bool:
    return definition is not None and definition.kind in ("Choice", "Boolean")


def choices(definition: Any) -> list[Any]:
    """A Choice's values (or False, True), in the order they were defined."""
    return list(definition.grid_values())


def label(value: Any) -> str:
    """A tick label: numbers with 3 significant digits, text cut to 12 characters."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return format_value(value, 12)
