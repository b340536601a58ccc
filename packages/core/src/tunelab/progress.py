"""Progress while searching: a tqdm bar over trials plus KerasTuner's per-trial lines.

The bar (trials done of `max_trials`, best score so far, time left) is drawn only when the
output is a terminal, ``verbose >= 1`` and tqdm is installed (``pip install
tunelab[progress]``); a log file or a CI job gets the plain lines only, which read well
there. ``verbose=0`` is silent.
"""

from __future__ import annotations

import math
import shutil
import sys
from typing import IO, TYPE_CHECKING, Any

from tunelab.display import Display
from tunelab.log import TrialLogger

if TYPE_CHECKING:
    from tunelab.objective import Objective
    from tunelab.trial import Trial

__all__ = ["SearchProgress", "tqdm_available"]


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
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbose = int(verbose or 0)
        want_bar = self.verbose >= 1 and _is_terminal(self.stream) if bar is None else bar
        self.bar: Any = None
        if want_bar and tqdm_available():
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
        if self.bar is not None:
            self._show_best()
            if trial.status in ("COMPLETED", "STOPPED", "INVALID", "FAILED"):
                self.bar.update(1)
            self.bar.refresh()

    def close(self) -> None:
        """End the bar (the lines need no closing)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
