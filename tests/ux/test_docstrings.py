"""The examples in the docstrings of the user-experience modules run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import os
from pathlib import Path

import pytest

MODULES = [
    "tunelab.display",
    "tunelab.progress",
    "tunelab.log",
    "tunelab.results",
    "tunelab.importance",
    "tunelab.plots",
    "tunelab.plots.figures",
    "tunelab.plots.history",
    "tunelab.plots.parallel",
    "tunelab.plots.slices",
    "tunelab.plots.curves",
    "tunelab.cli",
    "tunelab.tensorboard_log",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.makedirs("/tmp/tunelab-doc", exist_ok=True)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
