"""TensorBoard HParams logging for any search: functions, scikit-learn, Keras.

`TensorBoardLogger` is a KerasTuner-style logger (``report_trial_state``): pass it as
``logger=`` to a tuner (``kt.RandomSearch(f, ..., logger=TensorBoardLogger("logs"))``,
``kt.tuners.Sklearn``) or to ``TuneSearchCV``. Each finished trial becomes one HParams
session in ``log_dir/<trial_id>/``: its hyperparameter values, its score (tag ``score``,
unless a metric has that name, as a scikit-learn search's objective does) and every metric
it reported, step by step (their last value is the one the HParams table
shows). ``log_dir`` itself holds the experiment: each hyperparameter's domain and the
metrics. Open it with ``tensorboard --logdir log_dir`` (the HPARAMS tab).

It writes with TensorBoard's own protocol buffers, HParams plugin metadata and record
writer (`tensorboard.plugins.hparams`, `tensorboard.summary.writer.record_writer`), imported
when a logger is made: ``pip install tensorboard`` (or ``pip install './packages/core[tensorboard]'``
from a checkout). The search's process writes every record, wherever the trials run.

Keras searches can also use Keras's ``TensorBoard`` callback, which logs per-epoch curves
from inside training (see the Keras guide); this logger records what the store records.
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path
from typing import Any

from tunelab.trial import Trial

__all__ = ["TensorBoardLogger"]

SCORE_TAG = "score"
_ENDED = {"COMPLETED": True, "STOPPED": True, "FAILED": False, "INVALID": False}


def _tensorboard() -> dict[str, Any]:
    # Not tensorboard.plugins.hparams.summary nor its EventFileWriter: both import TensorFlow
    # when it is installed (20 s on a loaded 2-core machine, for a scikit-learn search);
    # these modules need only protobuf and numpy.
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError as error:
        raise ImportError(
            "TensorBoardLogger needs tensorboard, which is not installed: pip install "
            "tensorboard (or pip install './packages/core[tensorboard]' from a checkout)"
        ) from error
    return {
        "event_pb2": event_pb2,
        "summary_pb2": summary_pb2,
        "api_pb2": api_pb2,
        "metadata": metadata,
        "plugin_data_pb2": plugin_data_pb2,
        "scalar_pb": scalar_pb,
        "RecordWriter": RecordWriter,
    }


def _plain(value: Any) -> Any:
    """A value TensorBoard's HParams accept (bool, number, string), or None to leave out."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return None if value is None else str(value)


class TensorBoardLogger:
    """Writes each finished trial as a TensorBoard HParams session.

    Parameters
    ----------
    log_dir : str or path
        The folder to pass to ``tensorboard --logdir``; made when missing.

    Examples
    --------
    >>> import tunelab as kt
    >>> logger = TensorBoardLogger("/tmp/tunelab-doc/hparams")
    >>> tuner = kt.RandomSearch(lambda hp: (hp.Float("x", 0, 1) - 0.3) ** 2,
    ...                         objective="loss", max_trials=3, seed=0, logger=logger,
    ...                         directory="/tmp/tunelab-doc", project_name="tb",
    ...                         overwrite=True)
    >>> tuner.search(verbose=0)
    >>> logger.sessions
    3
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        if not isinstance(log_dir, (str, os.PathLike)) or not str(log_dir):
            raise TypeError(f"log_dir={log_dir!r}: expected a folder path (str or Path)")
        _tensorboard()  # a missing tensorboard fails here, not at the first trial's end
        self.log_dir = Path(log_dir)
        self.sessions = 0
        self._files = 0
        self._experiment: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._experiment_file: Path | None = None

    # KerasTuner's logger interface: only finished trials are written.
    def register_tuner(self, tuner_state: Any) -> None:
        """Nothing to record before the first trial ends."""

    def register_trial(self, trial_id: str, trial_state: Any) -> None:
        """Nothing to record before the trial ends."""

    def exit(self) -> None:
        """Every session's file is closed when it is written: nothing left to flush."""

    def report_trial_state(self, trial_id: str, trial_state: dict[str, Any]) -> None:
        """Write trial `trial_id` (its `Trial.get_config`) once it has ended; a trial that
        will run again (IDLE) or is still running is written when it ends."""
        trial = Trial.from_config(trial_state)
        if trial.status not in _ENDED:
            return
        values = {
            name: plain
            for name, value in trial.hyperparameters.active_values().items()
            if not name.startswith("tuner/") and (plain := _plain(value)) is not None
        }
        metrics = list(dict.fromkeys([SCORE_TAG, *trial.metrics.metrics]))
        self._write_experiment(trial, values, metrics)
        tb = _tensorboard()
        writer, _ = self._event_file(self.log_dir / str(trial_id))
        try:
            now = time.time()
            write = self._writer_of(writer)
            start = tb["plugin_data_pb2"].SessionStartInfo(start_time_secs=now)
            for name, value in values.items():
                field = {bool: "bool_value", str: "string_value"}.get(type(value), "number_value")
                setattr(start.hparams[name], field, value)
            write(self._hparams_summary("SESSION_START_INFO_TAG", session_start_info=start), 0, now)
            for name, history in trial.metrics.metrics.items():
                for observation in history.get_history():
                    value = observation.mean()
                    if math.isfinite(value):
                        write(tb["scalar_pb"](name, value), observation.step, now)
            own_score = SCORE_TAG not in trial.metrics.metrics  # else the metric "score" is it
            if own_score and trial.score is not None and math.isfinite(trial.score):
                write(tb["scalar_pb"](SCORE_TAG, float(trial.score)), trial.best_step or 0, now)
            status = tb["api_pb2"].STATUS_SUCCESS if _ENDED[trial.status] else None
            status = status or tb["api_pb2"].STATUS_FAILURE
            end = tb["plugin_data_pb2"].SessionEndInfo(status=status, end_time_secs=now)
            write(self._hparams_summary("SESSION_END_INFO_TAG", session_end_info=end), 0, now)
        finally:
            writer.close()
        self.sessions += 1

    def _hparams_summary(self, tag_name: str, **data: Any) -> Any:
        """A Summary of the HParams plugin: its data in the metadata, an empty tensor."""
        metadata = _tensorboard()["metadata"]
        content = _tensorboard()["plugin_data_pb2"].HParamsPluginData(**data)
        summary = _tensorboard()["summary_pb2"].Summary()
        summary.value.add(
            tag=getattr(metadata, tag_name),
            metadata=metadata.create_summary_metadata(content),
            tensor=metadata.NULL_TENSOR,
        )
        return summary

    def _event_file(self, folder: Path) -> tuple[Any, Path]:
        """A new event file in `folder` (TensorBoard reads every ``*tfevents*`` file of a
        run), opened with the version record TensorBoard expects first."""
        folder.mkdir(parents=True, exist_ok=True)
        self._files += 1
        now = time.time()
        name = f"events.out.tfevents.{now:.6f}.{socket.gethostname()}.{os.getpid()}.{self._files}"
        writer = _tensorboard()["RecordWriter"](open(folder / name, "wb"))  # noqa: SIM115
        version = _tensorboard()["event_pb2"].Event(wall_time=now, file_version="brain.Event:2")
        writer.write(version.SerializeToString())
        return writer, folder / name

    def _writer_of(self, writer: Any) -> Any:
        event_pb2 = _tensorboard()["event_pb2"]

        def write(summary: Any, step: int, wall_time: float) -> None:
            event = event_pb2.Event(summary=summary, step=int(step), wall_time=wall_time)
            writer.write(event.SerializeToString())

        return write

    def _write_experiment(self, trial: Trial, values: dict[str, Any], metrics: list[str]) -> None:
        """The experiment (hyperparameters' domains, metrics) in `log_dir`, written again
        when a trial brings a hyperparameter or a metric not written before (the new file
        replaces the old one: TensorBoard would read the first experiment it finds)."""
        known = self._experiment or ((), ())
        names = tuple(dict.fromkeys([*known[0], *values]))
        metric_names = tuple(dict.fromkeys([*known[1], *metrics]))
        if (names, metric_names) == known:
            return
        api_pb2 = _tensorboard()["api_pb2"]
        space = {hp.name: hp for hp in trial.hyperparameters.space}
        infos = [self._hparam_info(name, space.get(name), values.get(name)) for name in names]
        metric_infos = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=m)) for m in metric_names]
        writer, path = self._event_file(self.log_dir)
        try:
            now = time.time()
            experiment = api_pb2.Experiment(
                hparam_infos=infos, metric_infos=metric_infos, time_created_secs=now
            )
            self._writer_of(writer)(
                self._hparams_summary("EXPERIMENT_TAG", experiment=experiment), 0, now
            )
        finally:
            writer.close()
        if self._experiment_file is not None:
            self._experiment_file.unlink(missing_ok=True)
        self._experiment_file = path
        self._experiment = (names, metric_names)

    def _hparam_info(self, name: str, definition: Any, value: Any) -> Any:
        """A hyperparameter's type and domain: its choices, or its numeric range."""
        from google.protobuf import struct_pb2

        api_pb2 = _tensorboard()["api_pb2"]
        info = api_pb2.HParamInfo(name=name)
        kind = getattr(definition, "kind", None)
        sample = value if value is not None else getattr(definition, "default", None)
        if isinstance(sample, bool):
            info.type = api_pb2.DATA_TYPE_BOOL
        elif isinstance(sample, (int, float)):
            info.type = api_pb2.DATA_TYPE_FLOAT64
        else:
            info.type = api_pb2.DATA_TYPE_STRING
        if kind in ("Choice", "Boolean"):
            listed = [_plain(v) for v in definition.grid_values()]
            info.domain_discrete.CopyFrom(struct_pb2.ListValue(values=[]))
            info.domain_discrete.extend([v for v in listed if v is not None])
        elif kind in ("Int", "Float"):
            info.domain_interval.min_value = float(definition.min_value)
            info.domain_interval.max_value = float(definition.max_value)
        return info
