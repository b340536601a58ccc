"""A hyperparameter defined after a detached `ask()` (define-by-run) is saved when its value
is suggested, so a result told from another process keeps it, as Optuna saves each
suggestion. Each step runs in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from . import proof

ORACLE = """
import json, sys
import tunelab as kt
oracle = kt.oracles.RandomSearchOracle(
    objective="loss", max_trials=4, seed=3, directory=sys.argv[1], project_name="p"
)
"""

ASK = """
trial = oracle.ask(detached=True)
hp = trial.hyperparameters
units = hp.Int("units", 8, 512)            # defined after ask: not in the space yet
with hp.conditional_scope("units", list(range(8, 513))):
    rate = hp.Float("rate", 1e-4, 1e-1, sampling="log")
print(json.dumps([trial.trial_id, hp.values]))
"""

TELL = """
done = oracle.tell(sys.argv[2], {"loss": 0.25})
print(json.dumps([done.status, oracle.get_trial(sys.argv[2]).hyperparameters.values]))
"""


def _python(code: str, *args: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ORACLE + code), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_values_defined_after_a_detached_ask_survive_a_tell_from_another_process(tmp_path):
    trial_id, suggested = _python(ASK, str(tmp_path))
    assert set(suggested) == {"units", "rate"}
    status, stored = _python(TELL, str(tmp_path), trial_id)
    assert status == "COMPLETED"
    assert stored == suggested  # the values the asking process's code used
    # A second trial asked elsewhere knows the space now and gets its own values.
    second_id, second = _python(ASK, str(tmp_path))
    assert second_id != trial_id and set(second) == {"units", "rate"}
    proof.add("faults_injected")
