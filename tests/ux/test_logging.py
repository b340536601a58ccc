"""Logging through the standard logging module, and KerasTuner's logger= argument."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tunelab as kt


def flaky(hp: kt.HyperParameters) -> float:
    x = hp.Int("x", 0, 3)
    if x == 2:
        raise ValueError("x=2 is not supported by this model")
    return float(x)


def _grid(tmp_path: Path, **kwargs) -> kt.GridSearch:
    return kt.GridSearch(
        flaky,
        objective="loss",
        directory=tmp_path,
        project_name="grid",
        max_consecutive_failed_trials=None,
        **kwargs,
    )


def test_records_per_trial_on_the_tunelab_logger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tunelab"):
        _grid(tmp_path).search(verbose=0)
    records = [r for r in caplog.records if r.name == "tunelab"]
    assert [r.levelname for r in records] == ["INFO", "INFO", "WARNING", "INFO"]
    assert records[0].getMessage() == "Trial 0 COMPLETED: loss=0.0"
    assert records[2].getMessage() == (
        "Trial 2 FAILED: ValueError: x=2 is not supported by this model "
        "(full traceback: tuner.oracle.get_trial('2').message)"
    )


def test_a_logger_passed_to_the_tuner_receives_its_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mine = logging.getLogger("my_app.tuning")
    with caplog.at_level(logging.INFO, logger="my_app.tuning"):
        _grid(tmp_path, logger=mine).search(verbose=0)
    assert sum(r.name == "my_app.tuning" for r in caplog.records) == 4


def test_kerastuner_style_logger_gets_trial_states(tmp_path: Path) -> None:
    class Reporter:
        def __init__(self) -> None:
            self.states: list[tuple[str, str]] = []

        def report_trial_state(self, trial_id: str, state: dict) -> None:
            self.states.append((trial_id, state["status"]))

    reporter = Reporter()
    _grid(tmp_path, logger=reporter).search(verbose=0)
    assert reporter.states == [
        ("0", "COMPLETED"),
        ("1", "COMPLETED"),
        ("2", "FAILED"),
        ("3", "COMPLETED"),
    ]


def test_unconfigured_warning_reads_as_one_plain_line(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import tunelab as kt
        def fn(hp):
            raise ValueError("the data has NaN in column 3")
        tuner = kt.RandomSearch(fn, objective="loss", max_trials=1, directory={str(tmp_path)!r},
                                max_consecutive_failed_trials=None)
        tuner.search(verbose=0)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        "Trial 0 FAILED: ValueError: the data has NaN in column 3 "
        "(full traceback: tuner.oracle.get_trial('0').message)\n"
    )


def test_package_is_typed() -> None:
    assert (Path(kt.__file__).parent / "py.typed").is_file()
