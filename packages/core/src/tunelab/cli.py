"""The ``tunelab`` command: read a project's trial store from the shell.

It reads ``directory/project_name/tunelab.sqlite`` only, so it works for a project of any
backend without importing Keras, TensorFlow or scikit-learn::

    tunelab summary my_dir/my_project
    tunelab best my_dir/my_project --json
    tunelab export my_dir/my_project --format csv -o trials.csv
    tunelab plot my_dir/my_project --kind parallel -o parallel.svg
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tunelab.display import results_summary_text, search_space_summary_text
from tunelab.results import FORMATS, Results, export_results, load_results
from tunelab.store import StoreError

__all__ = ["main"]

PLOT_KINDS = ("history", "parallel", "importance", "slice", "curves")


def _summary(results: Results, args: argparse.Namespace) -> None:
    counts = Counter(t.status for t in results.trials)
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"Project: {results.location}")
    print(f"Backend: {results.backend or 'none (trials returned their results)'}")
    print(f"Trials: {len(results.trials)}" + (f" ({by_status})" if by_status else ""))
    print()
    print(search_space_summary_text(results.hyperparameters))
    print()
    best = results.best(args.num_trials)
    print(results_summary_text(results.location, results.objective, best, args.num_trials))


def _best(results: Results, args: argparse.Namespace) -> None:
    best = results.best(1)
    if not best:
        raise ValueError(
            f"no finished trial with a score in {results.location} "
            f"({len(results.trials)} trial(s) in all)"
        )
    trial = best[0]
    if args.json:
        document = {
            "trial_id": trial.trial_id,
            "score": trial.score,
            "objective": results.objective.get_config(),
            "hyperparameters": trial.hyperparameters.active_values(),
        }
        print(json.dumps(document, indent=2))
    else:
        print(trial.summary_text())


def _export(results: Results, args: argparse.Namespace) -> None:
    if args.output:
        path = export_results(results, args.output, format=args.format)
        print(f"Wrote {len(results.trials)} trials to {path}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = export_results(results, Path(folder) / f"trials.{args.format}", args.format)
        sys.stdout.write(path.read_text(encoding="utf-8"))


def _plot(results: Results, args: argparse.Namespace) -> None:
    from tunelab.plots import plot

    plot(results, args.kind, args.output)
    print(f"Wrote the {args.kind} plot to {args.output}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunelab",
        description="Read a tunelab project (directory/project_name) without running it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("path", help="the project folder (directory/project_name)")
        return sub

    summary = command("summary", "the space, trial counts and the best trials")
    summary.add_argument("-n", "--num-trials", type=int, default=3, help="best trials shown")
    summary.set_defaults(run=_summary)

    best = command("best", "the best trial's hyperparameters and score")
    best.add_argument("--json", action="store_true", help="print JSON")
    best.set_defaults(run=_best)

    export = command("export", "every trial as CSV (one row each) or JSON (with histories)")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("-o", "--output", help="the file to write (default: standard output)")
    export.set_defaults(run=_export)

    plot = command("plot", "draw a plot of the search to a PNG or SVG file")
    plot.add_argument("--kind", choices=PLOT_KINDS, default="history")
    plot.add_argument("-o", "--output", required=True, help="the image file (.png or .svg)")
    plot.set_defaults(run=_plot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tunelab`` command; returns the exit status (0 ok, 1 error, 2 usage).

    Examples
    --------
    >>> main(["summary", "/no/such/project"])
    1
    """
    args = _parser().parse_args(argv)
    try:
        results = load_results(args.path)
        args.run(results, args)
    except (FileNotFoundError, StoreError, ValueError, ImportError) as error:
        print(f"tunelab {args.command}: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`tunelab export ... | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
