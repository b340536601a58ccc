"""Running `search_worker.py` in real processes and reading what they left on disk."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tunelab.store import STORE_FILENAME

WORKER = Path(__file__).with_name("search_worker.py")


def settings(tmp: Path, max_trials: int, **extra: Any) -> dict[str, Any]:
    """Worker settings for a project in `tmp` (journal next to it)."""
    return {
        "directory": str(tmp),
        "journal": str(tmp / "journal.txt"),
        "max_trials": max_trials,
        **extra,
    }


def start(config: dict[str, Any]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(config: dict[str, Any], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(WORKER), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def store_path(config: dict[str, Any]) -> Path:
    return Path(config["directory"]) / config.get("project_name", "project") / STORE_FILENAME


def rows(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every trial row, read-only (a fresh connection: sees only committed data)."""
    path = store_path(config)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM trials ORDER BY number")]
    except sqlite3.OperationalError:  # killed before the tables were created
        return []
    finally:
        conn.close()


def integrity(config: dict[str, Any]) -> str:
    conn = sqlite3.connect(store_path(config), timeout=30)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def journal(config: dict[str, Any]) -> list[tuple[int, str, float]]:
    """(pid, trial_id, value) of every trial that ran to its end, in order."""
    path = Path(config["journal"])
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        pid, trial_id, value = line.split()
        out.append((int(pid), trial_id, float(value)))
    return out
