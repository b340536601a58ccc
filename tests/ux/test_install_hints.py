"""Every ``pip install`` that tunelab's messages and docstrings give is one that works: a
folder of this checkout (with extras its pyproject declares) or a package the project
resolves from PyPI (issue 20). The messages a user meets when a package is missing are
checked from a process where that package cannot be imported."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tunelab.distributions import INSTALL_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
STOP_WORDS = {"to", "or", "and", "from", "for", "(or", "(from", "in", "first"}


def _locked_names() -> set[str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {canonicalize_name(p["name"]) for p in lock["package"]}


def _texts(path: Path) -> list[str]:
    """The module's strings (implicitly joined literals are one; f-strings with {} holes)."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append(
                "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            )
    return texts


def _commands(text: str) -> list[list[str]]:
    """The arguments of each ``pip install`` in `text`."""
    commands = []
    for match in re.finditer(r"pip install ([^\n`]*)", text):
        arguments = []
        for token in match.group(1).split():
            token = token.strip("'\"").rstrip(".,;)")
            if token.startswith("-"):
                continue  # an option (--force-reinstall)
            if not token or token in STOP_WORDS or token.startswith("(") or token == "{}":
                break
            arguments.append(token)
        commands.append(arguments)
    return commands


def check_argument(argument: str, locked: set[str]) -> str | None:
    """None when pip can install `argument` here, else what is wrong with it."""
    if argument.startswith("./"):
        folder, _, extras = argument.partition("[")
        pyproject = ROOT / folder / "pyproject.toml"
        if not pyproject.is_file():
            return f"{argument}: {folder} is not a package of this checkout"
        declared = tomllib.loads(pyproject.read_text())["project"].get("optional-dependencies", {})
        unknown = [e for e in extras.rstrip("]").split(",") if e and e not in declared]
        return f"{argument}: extras {unknown} not in {folder}" if unknown else None
    name = canonicalize_name(Requirement(argument).name)
    if name.startswith("tunelab"):
        return f"{argument}: tunelab's packages are not on PyPI; install them from ./packages"
    return None if name in locked else f"{argument}: {name} is not a package the project resolves"


def test_every_pip_install_in_the_sources_installs_something_real() -> None:
    locked = _locked_names()
    problems, seen = [], 0
    for path in sorted((ROOT / "packages").glob("*/src/**/*.py")):
        for text in _texts(path):
            for arguments in _commands(text):
                seen += 1
                if not arguments:
                    continue  # the command is a {} filled from INSTALL_COMMANDS
                problems += [
                    f"{path.relative_to(ROOT)}: {problem}"
                    for a in arguments
                    if (problem := check_argument(a, locked))
                ]
    for command in INSTALL_COMMANDS.values():
        problems += [p for a in command.split()[2:] if (p := check_argument(a, locked))]
    assert seen > 10
    assert problems == []


def test_the_check_catches_commands_that_do_not_work() -> None:
    locked = _locked_names()
    assert check_argument("tunelab-keras", locked) is not None  # not on an index
    assert check_argument("./packages/core[plots]", locked) is not None  # no such extra
    assert check_argument("./packages/sklearn", locked) is not None  # no such folder
    assert check_argument("./packages/core[plot]", locked) is None
    assert check_argument("matplotlib>=3.6", locked) is None


MISSING = {
    "kt.Tuner": ("tunelab_keras", "import tunelab as kt; kt.Tuner"),
    "kt.tuners.Sklearn": ("tunelab_sklearn", "import tunelab as kt; kt.tuners.Sklearn"),
    "plots": (
        "matplotlib",
        "from tunelab import plots; import tunelab as kt\n"
        "t = kt.Trial(kt.HyperParameters(), '0', 'COMPLETED'); t.score = 1.0\n"
        "plots.plot([t])",
    ),
    "results_dataframe": (
        "pandas",
        "import tunelab as kt; from tunelab.results import results_dataframe\n"
        "results_dataframe([kt.Trial(kt.HyperParameters(), '0')])",
    ),
    "dask": ("distributed", "import tunelab.executors.dask_cluster"),
    "tensorboard": (
        "tensorboard",
        "from tunelab.tensorboard_log import TensorBoardLogger; TensorBoardLogger('logs')",
    ),
}


@pytest.mark.parametrize("what", sorted(MISSING))
def test_a_missing_package_names_a_command_that_works(what: str, tmp_path: Path) -> None:
    module, code = MISSING[what]
    script = f"import sys; sys.modules[{module!r}] = None\n{code}\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: "), done.stderr
    (arguments, *_) = _commands(last)
    assert arguments, last
    locked = _locked_names()
    assert [check_argument(a, locked) for a in arguments] == [None] * len(arguments), last
