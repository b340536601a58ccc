"""Counters of what the reliability suite really did; conftest.py prints them at the end.

Tests increment these only after the check that proves the event was survived, so the
summary reports proven facts, not attempts.
"""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()

# Printed in this order, with these labels.
LABELS = {
    "kills_survived": "SIGKILLs survived (rerun finished, store intact)",
    "interrupts_survived": "Ctrl-C interrupts survived",
    "faults_injected": "trial faults injected and contained",
    "fuzz_cases": "fuzz cases tried",
    "trials_checked": "finished trials checked after a crash",
    "trials_lost": "finished trials lost or duplicated",
    "files_scanned": "source files scanned for unsafe loading",
}


def add(name: str, amount: int = 1) -> None:
    """Count `amount` proven events of kind `name` (one of `LABELS`)."""
    if name not in LABELS:
        raise KeyError(f"unknown proof counter {name!r}; known: {sorted(LABELS)}")
    COUNTS[name] += amount
