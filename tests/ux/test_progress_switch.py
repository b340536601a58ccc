"""`search(progress=...)` chooses how progress is shown, independent of `verbose`; a search
on a project that has nothing left to run says so in one line (issue 20). Scripts run in
their own interpreter, their output a pipe (as a CI log) or a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = """
import sys
import tunelab as kt
def f(hp):
    return {"val_loss": (hp.Float("x", -1.0, 1.0) - 0.5) ** 2}
tuner = kt.RandomSearch(f, objective="val_loss", max_trials=3, seed=1,
                        directory=".", project_name="p")
progress = {"True": True, "False": False, "lines": "lines"}[sys.argv[1]]
tuner.search(verbose=int(sys.argv[2]), progress=progress)
"""
LINE = re.compile(r"^\[(\d)/3\] trial \d+ COMPLETED val_loss=\S+ best=\S+ \(00h 00m 0\ds\)$")


def _run(folder: Path, progress: str, verbose: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), progress, str(verbose)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("progress", ["True", "lines"])
def test_a_log_file_gets_one_plain_line_per_trial(tmp_path, progress):
    lines = _run(tmp_path, progress, 0).splitlines()
    assert [LINE.match(line).group(1) for line in lines] == ["1", "2", "3"]


def test_progress_and_verbose_are_independent(tmp_path):
    out = _run(tmp_path, "lines", 1)
    assert "Search: Running Trial #1" in out  # verbose=1: KerasTuner's lines
    assert sum(bool(LINE.match(line)) for line in out.splitlines()) == 3
    (tmp_path / "q").mkdir()
    quiet = _run(tmp_path / "q", "False", 1)
    assert "Search: Running Trial #3" in quiet and "[3/3]" not in quiet


def test_a_terminal_gets_a_bar_even_at_verbose_zero(tmp_path):
    pytest.importorskip("tqdm")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), "True", "0"],
        cwd=tmp_path,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the script ended and closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    screen = b"".join(chunks).decode()
    assert re.search(r"Search: 100%\|.*\| 3/3 \[", screen)
    assert "best val_loss=" in screen
    assert "[1/3] trial" not in screen  # a bar, not the lines


def test_a_second_search_on_a_finished_project_says_so_in_one_line(tmp_path):
    _run(tmp_path, "False", 0)
    again = _run(tmp_path, "False", 1)
    assert again == (
        "Nothing to run: max_trials=3 is reached in ./p, which keeps 3 finished trials. "
        "Raise max_trials to search further, or pass overwrite=True (or another "
        "project_name) to start a new search.\n"
    )
    assert _run(tmp_path, "False", 0) == ""  # verbose=0, progress=False: silent


def test_a_misspelled_progress_is_refused(tmp_path):
    code = "import tunelab as kt\nt = kt.RandomSearch(lambda hp: 1.0, max_trials=1)\n"
    done = subprocess.run(
        [sys.executable, "-c", code + "t.search(progress='bar')"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr.strip().splitlines()[-1] == (
        "ValueError: progress='bar'; expected True (a bar in a notebook or on a terminal, "
        'plain lines elsewhere), "lines" (plain lines), False (nothing) or None'
    )
