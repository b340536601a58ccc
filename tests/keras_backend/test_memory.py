"""The backend frees the graphs TensorFlow traced for a trial's model."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from conftest import build_classifier, keras, make_data

import tunelab as kt
from tunelab_keras.memory import discard_model_functions, dismantle_graphs


def _live_func_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


def test_discarded_functions_are_traced_again_and_their_graphs_freed():
    if keras.backend.backend() != "tensorflow":
        assert discard_model_functions(object()) == []
        return
    x, y = make_data(40)
    model = build_classifier(kt.HyperParameters())
    model.fit(x, y, epochs=1, verbose=0)
    graphs = discard_model_functions(model)
    # fit traced one_step_on_data; the optimizer's and metrics' tf.cond branches are nested
    assert "one_step_on_data" in [g.name for g in graphs]
    assert model.train_function is None
    before = _live_func_graphs()
    dismantle_graphs(graphs)
    del graphs
    assert _live_func_graphs() < before  # the nested branch graphs go too
    history = model.fit(x, y, epochs=1, verbose=0)  # traced anew: the model still trains
    assert np.isfinite(history.history["loss"][0])


def test_a_search_does_not_keep_the_graphs_of_finished_trials(tmp_path):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the traced graphs are TensorFlow's")
    x, y = make_data(40)
    counts = []

    class Counting(kt.RandomSearch):
        def on_trial_end(self, trial):
            counts.append(_live_func_graphs())

    tuner = Counting(build_classifier, objective="loss", max_trials=3, seed=0, directory=tmp_path)
    tuner.search(x, y, epochs=1, verbose=0)
    # without dismantling, each trial leaves ~20 graphs (train step + cond branches); what
    # is left (~2 a trial) comes from the data adapters, which no model references
    assert counts[2] - counts[0] <= 6, counts
