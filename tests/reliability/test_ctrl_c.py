"""Ctrl-C (SIGINT) during a fit and inside a store write, several times on one project: each
time the process exits with one line, finished trials are kept unchanged, the interrupted
trial runs again (same id, same values) on resume, and the final run completes the search."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from . import processes, proof
from .test_sigkill_resume import SEED


def _interrupt_then_finish(tmp, faults):
    """Interrupt one project at each of `faults` in turn, then run it to its end."""
    config = processes.settings(tmp, 8, steps=3, sleep=0.01)
    steps = []
    for fault in faults:
        before = {r["trial_id"]: r for r in processes.rows(config)}
        ran = Counter(t for _, t, _ in processes.journal(config))
        done = processes.run({**config, "fault": fault})
        steps.append((fault, before, ran, done, processes.rows(config)))
    final = processes.run(config)
    return config, steps, final


def _check(config, steps, final):
    by_id = {r["trial_id"]: r for r in processes.rows(config)}
    ran_at_end = Counter(t for _, t, _ in processes.journal(config))
    for fault, before, ran_before, done, after in steps:
        where = f"{fault} (RELIABILITY_SEED={SEED})"
        assert done.returncode == 130, (where, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Search interrupted: "), (where, lines)
        assert "finished trials are kept in" in lines[0], where
        finished = {t: r for t, r in before.items() if r["status"] == "COMPLETED"}
        kept = sum(r["status"] == "COMPLETED" for r in after)
        assert lines[0].startswith(f"Search interrupted: {kept} finished trials"), where
        # Trials finished before this interrupt are untouched and never ran again.
        changed = [t for t, r in finished.items() if by_id[t] != r]
        rerun = [t for t in finished if ran_at_end[t] != ran_before[t]]
        proof.add("trials_lost", len(changed) + len(rerun))
        assert not changed and not rerun, (where, changed, rerun)
        proof.add("trials_checked", len(finished))
        # The interrupted trial is waiting to run again with its values, never lost.
        pending = [r for r in after if r["status"] in ("IDLE", "RUNNING")]
        assert len(pending) <= 1, where
        for row in pending:
            assert by_id[row["trial_id"]]["status"] == "COMPLETED", where
            if row["hp_values"] != "{}":
                assert by_id[row["trial_id"]]["hp_values"] == row["hp_values"], where
        proof.add("interrupts_survived")
    assert final.returncode == 0, final.stderr
    assert final.stdout.split() == ["done", "8"]
    rows = list(by_id.values())
    assert len(rows) == 8 and {r["status"] for r in rows} == {"COMPLETED"}
    assert processes.integrity(config) == "ok"


@pytest.mark.slow
def test_repeated_ctrl_c_during_fits_and_store_writes_loses_nothing(tmp_path):
    rng = random.Random(SEED + 1)
    # Each project is interrupted three times: mid-fit, inside a store write, mid-fit.
    plans = [
        [
            {"kind": "sigint", "at": rng.randrange(0, 3)},
            {"kind": "sigint_write", "at": rng.randrange(3, 12)},
            {"kind": "sigint", "at": rng.randrange(4, 8)},
        ]
        for _ in range(3)
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(lambda i: _interrupt_then_finish(tmp_path / f"p{i}", plans[i]), range(3))
        )
    for config, steps, final in results:
        _check(config, steps, final)
