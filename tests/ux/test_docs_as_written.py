"""The docs build strict with the API reference of all three packages and an examples page;
`make demo` is described one way everywhere; `make dist` builds the three wheels (issue 20)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"


@pytest.mark.slow
def test_the_docs_build_strict_with_both_backends_in_the_reference(tmp_path):
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sklearn = (tmp_path / "site" / "reference" / "sklearn" / "index.html").read_text()
    for name in ("TuneSearchCV", "SklearnTuner", "SklearnBackend", "n_resumed_trials_"):
        assert f"{name}" in sklearn
    keras = (tmp_path / "site" / "reference" / "keras" / "index.html").read_text()
    for name in ("KerasBackend", "KerasOptions", "executions_per_trial"):
        assert name in keras
    examples = (tmp_path / "site" / "examples" / "index.html").read_text()
    for script in sorted(p.name for p in (ROOT / "examples").glob("*.py")):
        assert script in examples  # every example is on the page
    home = (tmp_path / "site" / "index.html").read_text()
    assert 'href="examples/"' in home  # in the navigation
    assert 'href="plots/"' in home
    # The Plots page shows the five plots, drawn at build time from the search it shows.
    page = (tmp_path / "site" / "plots" / "index.html").read_text()
    for kind in ("history", "parallel", "slice", "curves", "importance"):
        assert f'src="../img/gallery/{kind}.png"' in page
        image = (tmp_path / "site" / "img" / "gallery" / f"{kind}.png").read_bytes()
        assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 10_000
    text = re.sub(r"<[^>]+>", "", page)
    assert "kt.Hyperband(train" in text and "trial.report" in text  # the search, shown
    assert not (ROOT / "docs" / "img" / "gallery").exists()  # nothing drawn into docs/


def test_make_demo_is_described_one_way_and_nothing_is_being_built():
    readme = (ROOT / "README.md").read_text()
    quickstart = (ROOT / "docs" / "quickstart.md").read_text()
    demo = (ROOT / "examples" / "demo.py").read_text()
    for text in (readme, quickstart, demo):
        assert "three real tuning runs" in " ".join(text.split())
    assert len(re.findall(r'print\(".*== \d\. ', demo)) == 3  # and it runs three
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        assert "being built" not in page.read_text(), page


def test_every_pip_install_in_the_docs_installs_from_the_checkout():
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for line in re.findall(r"pip install ([^`\n#]*)", page.read_text()):
            for target in line.split():
                target = target.strip("'\"")
                assert target.startswith(("./packages/", "dist/", "tensorflow")), (page, line)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_dist_builds_the_three_wheels(tmp_path):
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    done = subprocess.run(
        [uv, "build", "--all-packages", "--wheel", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wheels = sorted(p.name for p in tmp_path.glob("*.whl"))
    assert [w.split("-")[0] for w in wheels] == ["tunelab", "tunelab_keras", "tunelab_sklearn"]
    # The Makefile target runs this same command.
    assert "build --all-packages --out-dir dist" in (ROOT / "Makefile").read_text()
