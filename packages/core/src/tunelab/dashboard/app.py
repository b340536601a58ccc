"""The dashboard's web server: a Starlette application served by uvicorn.

Pages are one HTML shell and our own script (``static/``); the script asks the JSON
endpoints below for data every second and draws with plotly, whose JavaScript is served
from the installed ``plotly`` Python package (nothing is fetched from the internet).

Endpoints (all GET; nothing writes to a store):

* ``/api/projects`` — every project under the folder (or in the database): trials by
  status, best score, last change.
* ``/api/trials?project=NAME`` — a project's trials, objective and Pareto front.
* ``/api/curves?project=NAME[&metric=M]`` — learning curves.
* ``/api/importance?project=NAME`` — hyperparameter importance.
* ``/api/trial?project=NAME&id=ID`` — one trial.

Each answer carries an ETag made of the store's change token: a poll that sends it back in
``If-None-Match`` gets 304 Not Modified while nothing changed, without any store read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tunelab.dashboard.data import READ_ERRORS, ProjectReader
from tunelab.dashboard.sources import DatabaseProjects, FolderProjects, Source
from tunelab.storage import StoreError
from tunelab.storage.url import is_storage_url

__all__ = ["create_app"]

_STATIC = resources.files("tunelab.dashboard") / "static"
_OWN_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
# Pages are shells that our script fills in: no stored text is ever put in the HTML.
_PAGES = {"/": "projects", "/project": "project", "/trial": "trial"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _plotly_js() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ImportError(
            f"the installed plotly ({plotly.__version__}) has no {path.name} in its package "
            "data; reinstall it: pip install --force-reinstall plotly"
        )
    return path


def _shell(page: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>tunelab dashboard</title>"
        '<link rel="stylesheet" href="/static/dashboard.css">'
        '<script src="/static/plotly.min.js" defer></script>'
        '<script src="/static/dashboard.js" defer></script>'
        f'</head><body data-page="{page}"><header><a href="/">tunelab</a>'
        '<span id="where"></span><span id="live" title="polling every second"></span>'
        '</header><main id="main"></main></body></html>\n'
    )


def _send(body: bytes | None, etag: str | None, request: Request, status: int = 200) -> Response:
    """A JSON answer; 304 with no body when the client already holds this `etag`."""
    headers = {"Cache-Control": "no-cache", **_SECURITY_HEADERS}
    if etag is not None:
        quoted = f'"{etag}"'
        headers["ETag"] = quoted
        if request.headers.get("if-none-match") == quoted:
            return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(message: str, request: Request) -> Response:
    return _send(json.dumps({"error": message}).encode(), None, request, status=404)


def create_app(root: str | Path, project: str | None = None) -> Starlette:
    """The dashboard over every project under the folder `root` (or the project folder
    `root`), or in the PostgreSQL database whose URL is `root` (only `project`, if given)."""
    projects: FolderProjects | DatabaseProjects
    if is_storage_url(root):
        projects = DatabaseProjects(str(root), project)
    else:
        projects = FolderProjects(Path(root))
    readers: dict[str, ProjectReader] = {}
    lock = threading.Lock()
    plotly_js = _plotly_js()

    def reader(name: str, source: Source) -> ProjectReader:
        with lock:
            found = readers.get(name)
            if found is None or found.source != source:
                if found is not None:
                    found.close()
                found = readers[name] = ProjectReader(name, source)
            return found

    def project_of(request: Request) -> ProjectReader:
        name = request.query_params.get("project", "")
        return reader(name, projects.resolve(name))

    def page(request: Request) -> Response:
        html = _shell(_PAGES[request.url.path])
        return Response(html, media_type="text/html", headers=_SECURITY_HEADERS)

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            return FileResponse(plotly_js, media_type="text/javascript")
        if name not in _OWN_FILES:
            return Response("not found", status_code=404, media_type="text/plain")
        text = (_STATIC / name).read_text(encoding="utf-8")
        return Response(text, media_type=_OWN_FILES[name], headers={"Cache-Control": "no-cache"})

    listing: dict[str, Any] = {"etag": None, "body": None}

    def api_projects(request: Request) -> Response:
        head = {"root": projects.where, "heading": projects.heading, "empty": projects.empty}
        try:
            found = projects.find()
        except READ_ERRORS as error:  # the database's server is gone
            failed = json.dumps({**head, "projects": [], "error": str(error)}).encode()
            return _send(failed, f"error-{hashlib.sha256(failed).hexdigest()[:16]}", request)
        # Each summary comes from its reader's cache while its store's token stays.
        summaries = [(name, reader(name, source).summary()) for name, source in found]
        state = "|".join(f"{name}:{doc.token}" for name, doc in summaries)
        etag = f"{len(found)}-{hashlib.sha256(state.encode()).hexdigest()[:16]}"
        if etag != listing["etag"]:
            rows = [doc.data for _, doc in summaries]
            text = json.dumps({**head, "projects": rows}, separators=(",", ":"))
            listing.update(etag=etag, body=text.encode())
        return _send(listing["body"], etag, request)

    def api(kind: str) -> Any:
        def endpoint(request: Request) -> Response:
            try:
                target = project_of(request)
            except (ValueError, OSError, StoreError) as error:
                return _error(str(error), request)
            if kind == "trials":
                doc = target.trials()
            elif kind == "curves":
                doc = target.curves(request.query_params.get("metric") or None)
            elif kind == "importance":
                doc = target.importance()
            else:
                doc = target.trial(request.query_params.get("id", ""))
            query = hashlib.sha256(str(request.query_params).encode()).hexdigest()[:12]
            return _send(doc.body, f"{kind}-{query}-{doc.token}", request)

        return endpoint

    def favicon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [Route(path, page) for path in _PAGES]
    routes += [Route("/favicon.ico", favicon)]
    routes += [Route("/static/{name}", static)]
    routes += [Route("/api/projects", api_projects)]
    routes += [Route(f"/api/{kind}", api(kind)) for kind in ("trials", "curves", "importance")]
    routes += [Route("/api/trial", api("trial"))]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for found in readers.values():
            found.close()

    return Starlette(routes=routes, lifespan=lifespan)
