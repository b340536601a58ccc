"""Known configurations to seed a search with: lists of dicts or a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["load_configurations"]


def _parse_cell(text: str) -> Any:
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            pass
    return stripped


def load_configurations(
    source: str | os.PathLike | Iterable[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Read configurations from a CSV file (one row each, a column per hyperparameter; empty
    cells are left out) or take them from a list of dicts.

    Cells are read as bool, int, float or text; the search space casts them further (an int
    for a Float hyperparameter becomes a float).
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"initial_trials={str(source)!r}: no such CSV file")
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise ValueError(f"initial_trials={str(source)!r}: the CSV file has no header row")
            return [
                {k: _parse_cell(v) for k, v in row.items() if k and v is not None and v.strip()}
                for row in reader
            ]
    configurations = list(source)
    for index, item in enumerate(configurations):
        if not isinstance(item, dict) or not all(isinstance(k, str) for k in item):
            raise ValueError(
                f"initial_trials[{index}]={item!r}: expected a dict of hyperparameter name -> value"
            )
    return [dict(item) for item in configurations]
