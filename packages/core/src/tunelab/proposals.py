"""What an oracle's `populate_space` is given and what it may answer.

KerasTuner hands `populate_space` a trial id (a string) and reads back
``{"status": ..., "values": ...}``; tunelab's oracles read the trial (`trial.number`,
`self.rng(trial)`) and answer with the values, None or `WAIT`. `TrialId` and
`read_proposal` let either kind of oracle run under the study.
"""

from __future__ import annotations

from typing import Any

from tunelab.trial import Trial, TrialStatus

__all__ = ["WAIT", "TrialId", "read_proposal"]


class _Wait:
    def __repr__(self) -> str:
        return "WAIT"


# What `populate_space` returns when only trials still running can tell what comes next
# (Hyperband between rounds): `ask` then gives None with `waiting` set.
WAIT: Any = _Wait()


class TrialId(str):
    """The id of the trial being populated, as KerasTuner hands it to `populate_space` (a
    string), that also reads as the `Trial` (`trial_id.number`, `self.rng(trial_id)`), so
    an oracle written either way works.

    It pickles and copies as a plain string: the trial stays in the process that asked it.
    """

    trial: Trial

    def __new__(cls, trial: Trial) -> TrialId:
        self = super().__new__(cls, trial.trial_id)
        object.__setattr__(self, "trial", trial)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.trial, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.trial, name, value)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (str, (str(self),))


# What `populate_space` may answer in KerasTuner's form, {"status": ..., "values": ...}.
_RESPONSE_KEYS = frozenset({"status", "values"})


def read_proposal(oracle: Any, proposed: Any) -> Any:
    """The values of a `populate_space` answer: a dict of values, None (exhausted) or
    `WAIT`, from either tunelab's form or KerasTuner's ``{"status": ..., "values": ...}``
    (RUNNING: run these values; IDLE: wait for running trials; STOPPED: the search is
    over)."""
    if proposed is None or proposed is WAIT:
        return proposed
    if not isinstance(proposed, dict):
        raise TypeError(
            f"{type(oracle).__name__}.populate_space returned {proposed!r}; expected "
            '{"status": "RUNNING", "values": {name: value}} (or "IDLE", "STOPPED"), '
            "a dict of values, or None when the space is exhausted"
        )
    if "status" not in proposed or not set(proposed) <= _RESPONSE_KEYS:
        return proposed
    status = proposed["status"]
    if status == TrialStatus.RUNNING:
        values = proposed.get("values") or {}
        if not isinstance(values, dict):
            raise TypeError(
                f"{type(oracle).__name__}.populate_space returned values={values!r}; "
                "expected a dict name -> value"
            )
        return values
    if status == TrialStatus.IDLE:
        return WAIT
    if status == TrialStatus.STOPPED:
        return None
    raise ValueError(
        f"{type(oracle).__name__}.populate_space returned status={status!r}; expected "
        f"{TrialStatus.RUNNING!r} (run the values), {TrialStatus.IDLE!r} (wait for running "
        f"trials) or {TrialStatus.STOPPED!r} (the search is over)"
    )
