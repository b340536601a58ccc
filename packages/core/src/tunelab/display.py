"""What a tuner prints: the space and results summaries (KerasTuner's formats) and the
per-trial progress lines."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunelab.hyperparameters import HyperParameters
    from tunelab.objective import Objective
    from tunelab.trial import Trial

__all__ = ["Display", "format_duration", "results_summary_text", "search_space_summary_text"]


def format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:02d}h {seconds % 3600 // 60:02d}m {seconds % 60:02d}s"


def search_space_summary_text(hyperparameters: HyperParameters) -> str:
    space = hyperparameters.space
    lines = ["Search space summary", f"Default search space size: {len(space)}"]
    for hp in space:
        lines.append(f"{hp.name} ({hp.kind})")
        lines.append(repr(hp.summary_config()))
    return "\n".join(lines)


def results_summary_text(
    location: str, objective: Objective, trials: list[Trial], num_trials: int
) -> str:
    lines = [
        "Results summary",
        f"Results in {location}",
        f"Showing {num_trials} best trials",
        repr(objective),
    ]
    for trial in trials:
        lines.append("")
        lines.append(trial.summary())
    return "\n".join(lines)


class Display:
    """KerasTuner's lines after each trial ("Trial 3 Complete [00h 00m 02s]", best so far,
    elapsed time). verbose=0 prints nothing."""

    def __init__(self, objective: Objective, verbose: int = 1) -> None:
        self.objective = objective
        self.verbose = verbose
        self.start = time.time()
        self.best: float | None = None

    def on_trial_end(self, trial: Trial, number: int) -> None:
        score = trial.score
        if (
            score is not None
            and math.isfinite(score)
            and (self.best is None or self.objective.better_than(score, self.best))
        ):
            self.best = score
        if not self.verbose:
            return
        name = self.objective.name
        took = format_duration((trial.ended_at or time.time()) - (trial.started_at or self.start))
        print(f"\nTrial {number} Complete [{took}]")
        if trial.status in ("COMPLETED", "STOPPED"):
            print(f"{name}: {score}")
        else:
            first = (trial.message or "").strip().splitlines()
            print(f"Status: {trial.status}" + (f" ({first[-1]})" if first else ""))
        print(f"\nBest {name} So Far: {self.best}")
        print(f"Total elapsed time: {format_duration(time.time() - self.start)}")
