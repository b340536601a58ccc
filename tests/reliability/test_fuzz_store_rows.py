"""Hostile rows in a real store: every column of a trial and every setting mutated
(wrong types, other JSON shapes, deep nesting, path traversal, control characters).
`tunelab summary/best/export` and resuming the search either work or stop with one clear
line naming the file; never an internal traceback. Written rows a spreadsheet would run
as formulas are neutralised in the CSV export; control characters are escaped on screen."""

from __future__ import annotations

import contextlib
import io
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tunelab as kt
from tunelab.cli import main
from tunelab.store import STORE_FILENAME, StoreError

from . import proof

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

TRIAL_COLUMNS = (
    "number", "trial_id", "status", "hp_values", "value_hash", "metrics", "score",
    "best_step", "message", "retries", "owner_host", "owner_pid", "tuner_id",
    "created_at", "started_at", "ended_at",
)  # fmt: skip
SETTINGS = ("space", "objective", "backend")
COMMANDS = (["summary"], ["best"], ["best", "--json"], ["export"], ["export", "--format", "json"])


def _objective(hp):
    return {"loss": hp.Float("x", 0.0, 1.0), "acc": hp.Choice("units", [8, 16])}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("rows")
    tuner = kt.RandomSearch(
        _objective, objective="loss", max_trials=4, seed=0, directory=directory, project_name="p"
    )
    tuner.search(verbose=0)
    return directory / "p"


# Named, so that a failing case prints a short name instead of 200 kB of brackets.
JSON_TEXTS = {
    "empty list": "[]", "string": '"s"', "null": "null", "number": "5", "huge": "1e999",
    "not json": "not json", "cut": "{", "metrics number": '{"metrics": 5}',
    "metric number": '{"metrics": {"loss": 5}}',
    "observations number": '{"metrics": {"loss": {"observations": 3}}}',
    "nested value": '{"x": {"a": 1}}', "list value": '{"x": [1, 2]}', "empty key": '{"": 1}',
    "deep list": "[" * 100_000 + "]" * 100_000,
    "deep dict": '{"a":' * 100_000 + "1" + "}" * 100_000,
}  # fmt: skip


class Named:
    """A JSON text that shows as its name in hypothesis' reports. Not a str subclass:
    hypothesis files drawn values by their exact type, and an unknown str subclass made
    it fail while replaying a case (FlakyStrategyDefinition)."""

    def __init__(self, name: str) -> None:
        self.name, self.text = name, JSON_TEXTS[name]

    def __repr__(self) -> str:
        return f"JSON_TEXTS[{self.name!r}]"


json_texts = st.sampled_from(sorted(JSON_TEXTS)).map(Named)
hostile_values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.sampled_from(["../../../x", "/etc/passwd", "..", ".", "a\x00b", "\x1b[2J", "=1+1"]),
    json_texts,
)


def _plain(value):
    return value.text if isinstance(value, Named) else value


def _mutated(project: Path, tmp: Path, change) -> Path:
    copy = tmp / "p"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(project, copy)
    connection = sqlite3.connect(copy / STORE_FILENAME)
    try:
        change(connection)
        connection.commit()
    finally:
        connection.close()
    return copy


def _check_reads_and_resume(copy: Path) -> None:
    for command in COMMANDS:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([*command, str(copy)])  # an internal error would raise here
        if status != 0:
            lines = err.getvalue().strip().splitlines()
            assert status == 1 and len(lines) == 1, (command, err.getvalue())
            assert str(copy) in lines[0] or "damaged" in lines[0], lines[0]
    tuner_args = dict(objective="loss", seed=0, directory=copy.parent, project_name="p")
    try:
        kt.RandomSearch(_objective, max_trials=6, **tuner_args).search(verbose=0)
    except StoreError as error:
        assert "\n" not in str(error) and STORE_FILENAME in str(error), str(error)
    proof.add("fuzz_cases")


@FUZZ
@given(column=st.sampled_from(TRIAL_COLUMNS), value=hostile_values, which=st.integers(0, 3))
@example(column="metrics", value="[]", which=0)
@example(column="hp_values", value='"s"', which=0)
@example(column="score", value="abc", which=1)
@example(column="metrics", value=JSON_TEXTS["deep list"], which=0)
@example(column="trial_id", value="../../../x", which=2)
@example(column="started_at", value="a", which=0)
@example(column="number", value=-1, which=3)  # the next id is taken: damaged, said once
@example(column="started_at", value=JSON_TEXTS["huge"], which=0)  # inf: damaged
def test_hostile_trial_column(project, tmp_path_factory, column, value, which):
    tmp = tmp_path_factory.mktemp("case")

    def change(connection):
        with contextlib.suppress(sqlite3.IntegrityError):  # NOT NULL / UNIQUE refuse it
            connection.execute(
                f"UPDATE trials SET {column}=? WHERE number=?", (_plain(value), which)
            )

    _check_reads_and_resume(_mutated(project, tmp, change))


@FUZZ
@given(key=st.sampled_from(SETTINGS), value=st.one_of(json_texts, st.text(max_size=10)))
@example(key="objective", value='"s"')
@example(key="objective", value='{"name": 5}')
def test_hostile_setting(project, tmp_path_factory, key, value):
    tmp = tmp_path_factory.mktemp("case")

    def change(connection):
        connection.execute("UPDATE meta SET value=? WHERE key=?", (_plain(value), key))

    _check_reads_and_resume(_mutated(project, tmp, change))


def test_path_in_trial_id_is_refused_with_file_and_trial(project, tmp_path):
    """A trial id that would lead a backend outside the project (its model file is
    written and loaded under the trial's folder) is refused where it is read."""

    def change(connection):
        connection.execute("UPDATE trials SET trial_id='../../../x' WHERE number=1")

    copy = _mutated(project, tmp_path, change)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["export", str(copy)]) == 1
    message = err.getvalue()
    assert "damaged" in message and "../../../x" in message and STORE_FILENAME in message


def test_csv_export_neutralises_formulas_and_summary_escapes_controls(tmp_path):
    def objective(hp):
        return {"loss": hp.Float("=HYPERLINK(x)\x1b[2J", 0.0, 1.0), "m": 1.0}

    tuner = kt.RandomSearch(
        objective, objective="loss", max_trials=2, seed=0, directory=tmp_path, project_name="p"
    )
    tuner.search(verbose=0)
    connection = sqlite3.connect(tmp_path / "p" / STORE_FILENAME)
    connection.execute("UPDATE trials SET trial_id='@SUM(A1)' WHERE number=0")
    connection.commit()
    connection.close()
    csv_file = tmp_path / "t.csv"
    assert main(["export", str(tmp_path / "p"), "-o", str(csv_file)]) == 0
    rows = csv_file.read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith("'@SUM(A1),0,COMPLETED,")
    out = subprocess.run(
        [sys.executable, "-m", "tunelab.cli", "summary", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "\x1b" not in out and "=HYPERLINK(x)\\x1b[2J" in out


@pytest.mark.parametrize("target", ["/dev/full", "folder"])
def test_export_to_unwritable_target_is_one_line(project, tmp_path, target):
    output = str(tmp_path) if target == "folder" else target
    result = subprocess.run(
        [sys.executable, "-m", "tunelab.cli", "export", str(project), "-o", output],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"cannot write {output!r}" in result.stderr
