"""Progress while searching: a bar over trials plus KerasTuner's per-trial lines.

Two independent switches. ``verbose`` (KerasTuner's) chooses the per-trial lines: 0 none, 1
or more KerasTuner's. ``progress`` (a `search` argument) chooses how progress is shown:

- ``True``: a bar (trials done of `max_trials`, best score so far, time left) -- tqdm's
  notebook widget in Jupyter (``tqdm.auto``), tqdm's text bar on a terminal -- and, where
  the output is a file or a CI log (no terminal, no notebook), one plain line per trial;
- ``"lines"``: one plain line per finished trial, wherever the output goes;
- ``False``: no bar and no progress lines;
- ``None`` (the default): the bar on a terminal when ``verbose >= 1``, else nothing.

The bar needs tqdm (``pip install tqdm``); without it ``True`` falls back to the lines.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from tunelab.display import Display, format_duration
from tunelab.log import TrialLogger

if TYPE_CHECKING:
    from tunelab.objective import Objective
    from tunelab.trial import Trial

__all__ = ["SearchProgress", "check_progress", "tqdm_available"]

_MODES = (True, False, "lines", None)
_FINISHED = ("COMPLETED", "STOPPED", "INVALID", "FAILED")


def check_progress(progress: Any) -> bool | str | None:
    """`progress` if it is one of True, False, "lines" or None, else a ValueError."""
    if not any(progress is m or (isinstance(m, str) and progress == m) for m in _MODES):
        raise ValueError(
            f"progress={progress!r}; expected True (a bar in a notebook or on a terminal, "
            'plain lines elsewhere), "lines" (plain lines), False (nothing) or None'
        )
    return progress


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def tqdm_available() -> bool:
    """Whether the optional tqdm package can be imported."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


class SearchProgress:
    """What `tuner.search` shows: the per-trial lines and, on a terminal, a progress bar.

    Parameters
    ----------
    objective : Objective
        What the search optimizes.
    verbose : int
        0: silent. 1 or more: the per-trial lines, and the bar on a terminal.
    total : int, optional
        The number of trials the search runs (`max_trials`); None draws a bar without an
        end (and so without a time left).
    done : int
        Trials already finished (a resumed search starts its bar there).
    best : Trial, optional
        The best trial already finished.
    stream : file, optional
        Where to print (default ``sys.stdout``).
    bar : bool, optional
        Force the bar on or off; by default it is on for a terminal when tqdm is installed.
    logger : optional
        Where finished trials are logged (see `tunelab.log.TrialLogger`); logging is
        independent of `verbose`.
    progress : {True, False, "lines", None}
        How progress is shown, independent of `verbose` (see the module docstring).
    project : str, optional
        The project's folder, named when the search has nothing left to run.

    Examples
    --------
    >>> import io
    >>> from tunelab.objective import Objective
    >>> progress = SearchProgress(Objective("loss", "min"), verbose=1, total=3,
    ...                           stream=io.StringIO())
    >>> progress.bar is None  # not a terminal: lines only
    True
    >>> progress.close()
    """

    def __init__(
        self,
        objective: Objective,
        verbose: int = 1,
        total: int | None = None,
        done: int = 0,
        best: Trial | None = None,
        stream: IO[str] | None = None,
        bar: bool | None = None,
        logger: Any = None,
        progress: bool | str | None = None,
        project: str | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbose = int(verbose or 0)
        self.progress = check_progress(progress)
        self.total, self.done, self.project = total, done, project
        self._ran = 0
        self._started = time.monotonic()
        notebook = progress is True and stream is None and _in_notebook()
        if bar is None:
            on_terminal = _is_terminal(self.stream)
            if progress is None:
                bar = self.verbose >= 1 and on_terminal
            else:
                bar = progress is True and (on_terminal or notebook)
        # Plain lines where a bar was asked for but cannot be drawn (a file, a CI log).
        self.lines = progress == "lines" or (progress is True and not (bar and tqdm_available()))
        self.bar: Any = None
        if bar and tqdm_available():
            if notebook:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm

            size = shutil.get_terminal_size()
            self.bar = tqdm(
                total=total,
                initial=min(done, total) if total else done,
                unit="trial",
                desc="Search",
                file=self.stream,
                # shutil falls back to 80x24 where the terminal reports none (0x0
                # pseudo-terminals), where tqdm would draw an empty bar.
                ncols=min(120, size.columns),
                nrows=size.lines,
                leave=True,
            )
        self.display = Display(objective, self.verbose, best=best, write=self._write)
        self.log = TrialLogger(objective.name, logger)
        self._show_best()

    def _write(self, text: str) -> None:
        if self.bar is not None:
            # Printed above the bar, which is then redrawn below the text.
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _show_best(self) -> None:
        best = self.display.best
        if self.bar is not None and best is not None and math.isfinite(best):
            self.bar.set_postfix_str(f"best {self.display.objective.name}={best:.5g}")

    def on_trial_begin(self, trial: Trial, number: int) -> None:
        """Before trial `number` (counted from 1) runs."""
        self.display.on_trial_begin(trial, number)

    def on_trial_end(self, trial: Trial, number: int) -> None:
        """After trial `number` is stored: print its lines and advance the bar."""
        self.display.on_trial_end(trial, number)
        self.log.on_trial_end(trial)
        if trial.status in _FINISHED:
            self._ran += 1
        if self.bar is not None:
            self._show_best()
            if trial.status in _FINISHED:
                self.bar.update(1)
            self.bar.refresh()
        elif self.lines:
            self._write(self._line(trial))

    def _line(self, trial: Trial) -> str:
        """One plain line per finished trial: count, status, score, best, time."""
        done = self.done + self._ran
        count = f"{done}/{self.total}" if self.total else str(done)
        name = self.display.objective.name
        score = f" {name}={trial.score:.5g}" if trial.score is not None else ""
        best = self.display.best
        best_text = f" best={best:.5g}" if best is not None and math.isfinite(best) else ""
        elapsed = format_duration(time.monotonic() - self._started)
        return f"[{count}] trial {trial.trial_id} {trial.status}{score}{best_text} ({elapsed})"

    def close(self) -> None:
        """End the bar; when the search ran nothing because `max_trials` was already
        reached, say so in one line."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        quiet = self.verbose == 0 and not self.progress
        if not quiet and not self._ran and self.total and self.done >= self.total:
            where = f" in {self.project}" if self.project else ""
            print(
                f"Nothing to run: max_trials={self.total} is reached{where}, which keeps "
                f"{self.done} finished trials. Raise max_trials to search further, or pass "
                "overwrite=True (or another project_name) to start a new search.",
                file=self.stream,
                flush=True,
            )
