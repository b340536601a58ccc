"""mkdocs hook: the Plots page's pictures, drawn from a real search when the docs are built.

The search is the Python block of ``docs/plots.md`` that follows the marker comment
``<!-- gallery: ... -->``: the page shows exactly the code that made its pictures. The
hook runs it in a temporary folder, draws every kind of `tunelab.plots` from its ``tuner``,
and adds the PNGs to the site as ``img/gallery/<kind>.png``. Nothing is written into
``docs/`` and no image is committed.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PAGE = "plots.md"
FOLDER = "img/gallery"
MARKER = re.compile(r"<!-- gallery:[^>]*-->\s*```python\n(.*?)```", re.DOTALL)
log = logging.getLogger("mkdocs.hooks.plot_gallery")


def gallery_code(page: Path) -> str:
    """The search the page shows, or a RuntimeError naming the page and the marker."""
    found = MARKER.search(page.read_text(encoding="utf-8"))
    if found is None:
        raise RuntimeError(
            f"{page}: no ```python block after a '<!-- gallery: ... -->' comment; the plot "
            "gallery needs the search whose plots the page shows"
        )
    return found.group(1)


def draw(code: str) -> dict[str, bytes]:
    """Run `code` in a temporary folder; each plot kind of its ``tuner`` as PNG bytes."""
    from tunelab import plots

    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="tunelab-gallery-") as folder:
        os.chdir(folder)
        try:
            namespace: dict[str, Any] = {"__name__": "gallery"}
            exec(compile(code, f"docs/{PAGE}", "exec"), namespace)  # noqa: S102 - our own page
            tuner = namespace["tuner"]
            images = {}
            for kind in plots.KINDS:
                buffer = io.BytesIO()
                plots.plot(tuner, kind).savefig(buffer, format="png", dpi=100)
                images[kind] = buffer.getvalue()
        finally:
            os.chdir(previous)
    return images


def on_files(files: Files, config: Any) -> Files:
    code = gallery_code(Path(config["docs_dir"]) / PAGE)
    images = draw(code)
    for kind, image in images.items():
        files.append(File.generated(config, f"{FOLDER}/{kind}.png", content=image))
    log.info("plot gallery: %d plots drawn from the search on %s", len(images), PAGE)
    return files
