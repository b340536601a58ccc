"""A search whose trials all fail (or all return NaN), run in its own process by
test_failure_limit.py: ``python failing_worker.py '<json settings>'``.

Prints ``stopped`` when `TooManyFailedTrialsError` ends the search, ``done`` otherwise.
"""

from __future__ import annotations

import json
import sys
import time

import tunelab as kt


def main() -> None:
    settings = json.loads(sys.argv[1])

    def objective(hp):
        x = hp.Float("x", 0.0, 1.0)
        time.sleep(settings.get("sleep", 0.0))
        if settings["mode"] == "nan":
            return float("nan")
        raise RuntimeError(f"broken at x={x}")

    tuner = kt.RandomSearch(
        objective,
        objective="loss",
        max_trials=settings["max_trials"],
        max_consecutive_failed_trials=settings["limit"],
        directory=settings["directory"],
        project_name="project",
    )
    try:
        tuner.search(verbose=0)
    except kt.errors.TooManyFailedTrialsError:
        print("stopped")
        return
    print("done")


if __name__ == "__main__":
    main()
