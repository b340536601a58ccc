"""The ``tunelab`` command: read a project's trial store from the shell.

It reads ``directory/project_name/tunelab.sqlite`` (or a PostgreSQL database, with
``--project``) only, so it works for a project of any backend without importing Keras,
TensorFlow or scikit-learn::

    tunelab summary my_dir/my_project
    tunelab best my_dir/my_project --json
    tunelab export my_dir/my_project --format csv -o trials.csv
    tunelab plot my_dir/my_project --kind parallel -o parallel.svg
    tunelab pareto my_dir/my_project -o front.png   (the Pareto front of an objective list)
    tunelab list my_dir                  (every project under a folder)
    tunelab dashboard my_dir             (a live web page; needs tunelab[dashboard])
    tunelab dashboard postgresql://user@host/db   (every project in a database)
    tunelab summary postgresql://user@host/db --project my_project
    tunelab list postgresql://user@host/db   (every project in a database)
    tunelab --version
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tunelab.display import format_value, results_summary_text, search_space_summary_text
from tunelab.objective import Objective
from tunelab.results import FORMATS, Results, export_results, load_results
from tunelab.storage import Storage
from tunelab.storage.url import is_storage_url, list_projects, open_url, redact
from tunelab.store import STORE_FILENAME, Store, StoreError

__all__ = ["main"]

PLOT_KINDS = ("history", "parallel", "importance", "slice", "curves")


def _printable(text: str) -> str:
    """`text` with control and format characters shown as escapes: a name stored by a
    hostile writer must not move the cursor, clear the screen or reverse the line."""
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs") else ascii(c)[1:-1]
        for c in text
    )


def _say(*lines: str) -> None:
    print(_printable("\n".join(lines)))


def _summary(results: Results, args: argparse.Namespace) -> None:
    counts = Counter(t.status for t in results.trials)
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    best = results.best(args.num_trials)
    _say(
        f"Project: {results.location}",
        f"Backend: {results.backend or 'none (trials returned their results)'}",
        f"Trials: {len(results.trials)}" + (f" ({by_status})" if by_status else ""),
        "",
        search_space_summary_text(results.hyperparameters),
        "",
        results_summary_text(results.location, results.objective, best, args.num_trials),
    )
    if results.pareto or results.constraints:
        from tunelab.display import front_summary_text

        _say("", front_summary_text(results))


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
        _say(trial.summary_text())


def _export(results: Results, args: argparse.Namespace) -> None:
    if args.output:
        try:
            path = export_results(results, args.output, format=args.format)
        except OSError as error:
            # /dev/full, a folder, a read-only place: say which file, not where it failed.
            raise OSError(f"cannot write {args.output!r}: {error.strerror or error}") from None
        print(f"Wrote {len(results.trials)} trials to {path}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = export_results(results, Path(folder) / f"trials.{args.format}", args.format)
        sys.stdout.write(path.read_text(encoding="utf-8"))


def _plot(results: Results, args: argparse.Namespace) -> None:
    from tunelab.plots import plot

    plot(results, args.kind, args.output)
    print(f"Wrote the {args.kind} plot to {args.output}", file=sys.stderr)


def _pareto(results: Results, args: argparse.Namespace) -> None:
    from tunelab.display import front_summary_text

    if not results.ranked:
        raise ValueError(
            f"{results.location} optimizes one objective ({results.objective.name!r}); a "
            "Pareto front needs an objective list"
        )
    _say(front_summary_text(results))
    if args.output:
        from tunelab.plots_pareto import plot_pareto_front

        plot_pareto_front(results, args.output)
        print(f"Wrote the Pareto front plot to {args.output}", file=sys.stderr)


def _project_row(file: Path, root: Path) -> list[str]:
    """The `list` columns of the project whose store is `file` (read-only)."""
    name = str(file.parent.relative_to(root)) if file.parent != root else "."
    return _row(Store(file, read_only=True), name, file.stat().st_mtime)


def _row(store: Storage, name: str, changed_at: float) -> list[str]:
    """The `list` columns of one project (the store is closed afterwards)."""
    try:
        counts = store.count_by_status()
        config = store.get_meta("objective")
        objective = Objective.from_config(config) if config else None
        direction = getattr(objective, "direction", "min")
        best = store.best_trials(1, direction)
        times = [t.ended_at or t.started_at or t.created_at for t in store.get_trials()]
        created = store.get_meta("created_at")
    finally:
        store.close()
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
    score = "-"
    if best and objective is not None:
        label = getattr(objective, "name", "score")
        score = f"{label}={format_value(best[0].score)} ({direction})"
    if not changed_at and isinstance(created, (int, float)) and not isinstance(created, bool):
        changed_at = created  # a database's project: no file to date it
    changed = max((t for t in times if t is not None), default=changed_at)
    return [name, statuses, score, time.strftime("%Y-%m-%d %H:%M", time.localtime(changed))]


def _table(rows: list[list[str]], unreadable: list[str]) -> int:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[3]]) for r in rows
    ]
    _say(*lines, *unreadable)
    return 1 if unreadable else 0


def _list_database(url: str) -> int:
    """Print every project stored in the database at `url`."""
    rows, unreadable = [["PROJECT", "TRIALS", "BEST", "LAST CHANGE"]], []
    for name in list_projects(url):
        try:
            rows.append(_row(open_url(url, name, read_only=True), name, 0.0))
        except (OSError, StoreError, ValueError, TypeError, KeyError) as error:
            unreadable.append(f"{name}: cannot be read: {error}")
    if len(rows) == 1 and not unreadable:
        _say(f"No tunelab project in {redact(url)}.")
        return 0
    return _table(rows, unreadable)


def _list(root: Path) -> int:
    """Print every project under `root`: trials by status, best score, last change."""
    if not root.is_dir():
        raise OSError(f"{str(root)!r} is not a folder")
    rows, unreadable = [["PROJECT", "TRIALS", "BEST", "LAST CHANGE"]], []
    for file in sorted(root.rglob(STORE_FILENAME)):
        try:
            rows.append(_project_row(file, root))
        except (OSError, StoreError, ValueError, TypeError, KeyError) as error:
            unreadable.append(f"{file.parent.relative_to(root)}: cannot be read: {error}")
    if len(rows) == 1 and not unreadable:
        _say(f"No tunelab project under {root} (no folder there holds a {STORE_FILENAME}).")
        return 0
    return _table(rows, unreadable)


def _parser() -> argparse.ArgumentParser:
    from tunelab import __version__

    parser = argparse.ArgumentParser(
        prog="tunelab",
        description="Read a tunelab project (directory/project_name) without running it.",
    )
    parser.add_argument("--version", action="version", version=f"tunelab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "path", help="the project folder (directory/project_name), or a postgresql:// URL"
        )
        sub.add_argument(
            "--project", help="the project (project_name) to read in a postgresql:// database"
        )
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

    pareto = command("pareto", "the Pareto front of a search over an objective list")
    pareto.add_argument("-o", "--output", help="also draw it to this image file (.png or .svg)")
    pareto.set_defaults(run=_pareto)

    listing = commands.add_parser(
        "list",
        help="every project under a folder: trials by status, best score, last change",
        description="Every project under a folder: trials by status, best score, last change.",
    )
    listing.add_argument(
        "path", help="the folder to look in (and in its subfolders), or a postgresql:// URL"
    )
    listing.set_defaults(run=None)

    dashboard = commands.add_parser(
        "dashboard",
        help="a live web page over every project under a folder or in a database "
        "(needs tunelab[dashboard])",
        description="Serve a live, read-only web page over every project under a folder (or "
        "in a PostgreSQL database): trials, charts and importance, refreshed every second "
        "while searches run.",
    )
    dashboard.add_argument(
        "path",
        help="the folder of projects (or one project folder), or a postgresql:// URL",
    )
    dashboard.add_argument(
        "--project", help="with a postgresql:// URL: show only this project (project_name)"
    )
    dashboard.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this machine only)"
    )
    dashboard.add_argument(
        "--port", type=int, default=8080, help="port (default 8080; 0: any free port)"
    )
    dashboard.set_defaults(run="dashboard")
    return parser


def _dashboard(args: argparse.Namespace) -> int:
    from tunelab.dashboard import serve

    with contextlib.suppress(KeyboardInterrupt):
        serve(args.path, host=args.host, port=args.port, project=args.project)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tunelab`` command; returns the exit status (0 ok, 1 error, 2 usage).

    Examples
    --------
    >>> main(["summary", "/no/such/project"])
    1
    """
    args = _parser().parse_args(argv)
    try:
        if args.run is None:  # list: many stores, each read on its own
            if is_storage_url(args.path):
                return _list_database(args.path)
            return _list(Path(args.path))
        if args.run == "dashboard":
            return _dashboard(args)
        if args.project is not None and not is_storage_url(args.path):
            raise ValueError(
                f"--project {args.project!r} names a project in a database, but {args.path!r} "
                "is not a postgresql:// URL: give the project folder (directory/project_name)"
            )
        results = load_results(args.path, project_name=args.project)
        args.run(results, args)
    except BrokenPipeError:
        # The reader went away (`tunelab export ... | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (OSError, StoreError, ValueError, ImportError) as error:
        print(f"tunelab {args.command}: error: {_printable(str(error))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
