"""The reliability suite's summary: what it proved, from counters the tests increment."""

from __future__ import annotations

from typing import Any

from . import proof


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not proof.COUNTS:
        return
    terminalreporter.section("reliability: what this run proved")
    for name, label in proof.LABELS.items():
        terminalreporter.write_line(f"{label:<52} {proof.COUNTS.get(name, 0)}")
