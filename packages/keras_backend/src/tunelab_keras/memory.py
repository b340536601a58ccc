"""Free what a trained Keras model leaves behind once its trial is over.

``keras.backend.clear_session()`` drops Keras's global state, but with TensorFlow the graphs
traced for a model's ``fit``/``evaluate``/``predict`` outlive the model: a traced graph and
its operations reference each other through TensorFlow's C++ wrappers, which the garbage
collector cannot break, and the graph keeps its nested functions (``tf.cond`` branches of the
optimizer's update, of the metrics) registered in the eager runtime. That is ~2.5 MB per
trial, half of what a long in-process search grows by. TensorFlow's own
``dismantle_func_graph`` breaks those cycles; we call it on the graphs of the trial's model,
and only on them, since only that model is known to be discarded.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterable
from typing import Any

import keras

__all__ = ["discard_model_functions", "dismantle_graphs"]

_FUNCTION_ATTRS = ("train_function", "test_function", "predict_function")
_CLOSURE_DEPTH = 4  # Keras wraps its tf.functions in at most 2-3 layers of closures


def discard_model_functions(model: Any) -> list[Any]:
    """Detach the traced graphs of `model`'s train/test/predict functions.

    The model stays usable: Keras traces new functions at its next ``fit``. Returns the
    graphs, to give to `dismantle_graphs` once nothing runs them any more; an empty list
    with a backend other than TensorFlow, or a Keras that keeps its functions elsewhere.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> discard_model_functions(model)  # never trained: nothing traced
    []
    """
    if keras.backend.backend() != "tensorflow":
        return []
    try:
        from tensorflow.python.eager.polymorphic_function.polymorphic_function import (
            Function,
        )
    except ImportError:  # a TensorFlow that moved its private modules: leak, do not fail
        return []
    graphs: list[Any] = []
    for attr in _FUNCTION_ATTRS:
        root = getattr(model, attr, None)
        if root is None:
            continue
        for function in _tf_functions(root, Function):
            graphs.extend(_graphs_of(function))
        setattr(model, attr, None)  # Keras traces anew if the model is trained again
    return graphs


def dismantle_graphs(graphs: Iterable[Any]) -> None:
    """Break the reference cycles of `graphs` (and of their nested graphs) so they are freed.

    Each graph is unusable afterwards. Errors are ignored: this only frees memory.
    """
    try:
        from tensorflow.python.framework.func_graph import dismantle_func_graph
    except ImportError:
        return
    seen: set[int] = set()
    pending = list(graphs)
    while pending:
        graph = pending.pop()
        if id(graph) in seen:
            continue
        seen.add(id(graph))
        # Nested functions (cond/while branches) hold graphs of their own.
        for child in list(getattr(graph, "_functions", {}).values()):
            nested = getattr(child, "_cached_graph", None)
            if nested is not None:
                pending.append(nested)
        # A graph TensorFlow already tore down may raise: freeing memory must not fail a trial.
        with contextlib.suppress(Exception):
            dismantle_func_graph(graph)


def _tf_functions(root: Any, function_type: type) -> list[Any]:
    """The `tf.function`s reachable from `root` through closures of plain functions."""
    found: list[Any] = []
    seen: set[int] = set()
    pending = [(root, 0)]
    while pending:
        obj, depth = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, function_type):
            found.append(obj)
            obj = getattr(obj, "_python_function", None)
            if obj is None:
                continue
        if not isinstance(obj, types.FunctionType) or depth >= _CLOSURE_DEPTH:
            continue
        for cell in obj.__closure__ or ():
            try:
                pending.append((cell.cell_contents, depth + 1))
            except ValueError:  # an empty cell
                continue
    return found


def _graphs_of(function: Any) -> list[Any]:
    try:
        concrete = list(function._list_all_concrete_functions())
    except Exception:  # noqa: BLE001 - private API: a leak beats a failed trial
        return []
    return [c.graph for c in concrete if getattr(c, "graph", None) is not None]
