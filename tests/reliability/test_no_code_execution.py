"""No loading path may run code from a file: the source of every package (core and backends)
is scanned for pickle-like deserializers, eval/exec, unsafe YAML, numpy/torch/keras/skops
loads in their unsafe modes. A finding is an error unless it is in the documented allow-list."""

from __future__ import annotations

import ast
from pathlib import Path

from . import proof

PACKAGES = Path(__file__).resolve().parents[2] / "packages"

# Modules whose loading functions run code stored in the data.
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "cloudpickle", "dill", "marshal", "shelve"}
UNSAFE_CALLS = {"eval", "exec", "execfile", "__import__"}

# (file relative to packages/, what was found) -> why it is safe. Keep it short and justified.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "sklearn_backend/src/tunelab_sklearn/model_files.py",
        "skops load with computed trusted=",
    ): "trusted= is the file's own list of untrusted types, passed only after every one was "
    "checked against the allow-list (UntrustedModelError otherwise)",
    # The process-pool executor sends the tuner and each trial to the worker processes it
    # started itself, as bytes over their pipes; nothing is read from a file or a socket.
    ("core/src/tunelab/executors/worker.py", "import pickle"): "driver-to-own-worker IPC",
    ("core/src/tunelab/executors/worker.py", "import cloudpickle"): "driver-to-own-worker IPC",
    ("core/src/tunelab/executors/worker.py", "pickle.loads()"): "driver-to-own-worker IPC",
    # trial_isolation="process": the tuner sends the user's own hypermodel and data to the
    # child process it has just started, over a pipe; nothing is read from disk.
    ("keras_backend/src/tunelab_keras/isolation.py", "import cloudpickle"): "parent-to-child IPC",
    ("keras_backend/src/tunelab_keras/isolation.py", "cloudpickle.loads()"): "parent-to-child IPC",
}


def _name(node: ast.AST) -> str:
    """Dotted name of a call target: `np.load` -> "np.load", `load` -> "load"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def findings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every unsafe construct in one module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in UNSAFE_MODULES:
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in UNSAFE_MODULES:
                found.append((node.lineno, f"from {node.module} import"))
        elif isinstance(node, ast.Call):
            found += [(node.lineno, what) for what in _unsafe_call(node)]
    return found


def _unsafe_call(call: ast.Call) -> list[str]:
    name = _name(call.func)
    last = name.rsplit(".", 1)[-1]
    head = name.split(".")[0]
    out = []
    if name in UNSAFE_CALLS:
        out.append(f"{name}()")
    if head in UNSAFE_MODULES | {"joblib"} and last in ("load", "loads", "Unpickler"):
        out.append(f"{name}()")
    if name == "compile":
        out.append("compile()")
    if head == "yaml" and last in ("load", "load_all", "unsafe_load", "full_load"):
        loader = _keyword(call, "Loader")
        if last != "load" or loader is None or "Safe" not in _name(loader):
            out.append(f"{name}() without SafeLoader")
    allow_pickle = _keyword(call, "allow_pickle")
    pickles = allow_pickle is not None and not _is_const(allow_pickle, False)
    if head in ("np", "numpy") and last == "load" and pickles:
        out.append(f"{name}(allow_pickle=...)")
    if head == "torch" and last == "load" and not _is_const(_keyword(call, "weights_only"), True):
        out.append(f"{name}() without weights_only=True")
    safe_mode = _keyword(call, "safe_mode")
    unsafe_mode = safe_mode is not None and not _is_const(safe_mode, True)
    if last in ("load_model", "load_weights") and unsafe_mode:
        out.append(f"{name}(safe_mode=...)")
    if last in ("read_pickle", "to_pickle"):
        out.append(f"{name}()")
    if "skops" in name and last in ("load", "loads"):
        trusted = _keyword(call, "trusted")
        if _is_const(trusted, True):
            out.append(f"{name}(trusted=True)")
        elif trusted is not None and not _is_literal_list(trusted):
            out.append("skops load with computed trusted=")
    return out


def _is_literal_list(node: ast.expr) -> bool:
    return isinstance(node, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    )


def test_the_scanner_catches_each_unsafe_form():
    source = "\n".join(
        [
            "import pickle",
            "from dill import loads",
            "import cloudpickle as cp",
            "eval('1')",
            "exec('x = 1')",
            "yaml.load(text)",
            "yaml.load(text, Loader=yaml.Loader)",
            "yaml.load(text, Loader=yaml.SafeLoader)",  # safe: not reported
            "np.load(path, allow_pickle=True)",
            "np.load(path)",  # safe: numpy refuses pickles by default
            "torch.load(path)",
            "torch.load(path, weights_only=True)",  # safe
            "keras.models.load_model(path, safe_mode=False)",
            "joblib.load(path)",
            "pd.read_pickle(path)",
            "skops.io.load(path, trusted=True)",
            "skops.io.load(path, trusted=['numpy.ndarray'])",  # safe: a literal list
            "marshal.loads(data)",
        ]
    )
    lines = sorted({line for line, _ in findings(ast.parse(source))})
    assert lines == [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15, 16, 18]


def test_no_package_deserializes_code_or_evaluates_strings():
    files = sorted(PACKAGES.glob("*/src/**/*.py"))
    assert len(files) >= 20  # core and the backends really were found
    unexpected, used = [], set()
    for path in files:
        relative = path.relative_to(PACKAGES).as_posix()
        for line, what in findings(ast.parse(path.read_text(), filename=str(path))):
            if (relative, what) in ALLOWED:
                used.add((relative, what))
            else:
                unexpected.append(f"{relative}:{line}: {what}")
    proof.add("files_scanned", len(files))
    assert not unexpected, "unsafe loading constructs:\n" + "\n".join(unexpected)
    # An allow-list entry that no longer matches anything in its file must be removed
    # (entries for files this checkout does not have yet are kept for the merge).
    present = {entry for entry in ALLOWED if (PACKAGES / entry[0]).exists()}
    assert used == present, f"stale allow-list entries: {present - used}"
