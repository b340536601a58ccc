"""A live web page over the trial stores of a folder, ``tunelab dashboard DIR``, or of a
PostgreSQL database, ``tunelab dashboard postgresql://user@host:5432/db [--project NAME]``.

The server (Starlette, uvicorn) and the charts (plotly) are the optional extra
``tunelab[dashboard]``; they are imported only when the dashboard starts, so
``import tunelab`` stays light. The stores are opened read-only and read through the
storage interface (`tunelab.dashboard.data`); searches may write to them meanwhile.
"""

from __future__ import annotations

import errno
import importlib
import ipaddress
import os
import socket
import sys
from pathlib import Path

from tunelab.storage import STORE_FILENAME
from tunelab.storage.url import is_storage_url, open_url, redact

__all__ = ["EXTRA", "bind", "check_extra", "ipaddress_is_loopback", "serve"]

EXTRA = ("starlette", "uvicorn", "plotly")


def check_extra() -> None:
    """Raise ImportError naming what is missing when ``tunelab[dashboard]`` is not installed."""
    missing = []
    for name in EXTRA:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"tunelab dashboard needs the optional extra tunelab[dashboard] (starlette, "
            f"uvicorn, plotly); missing: {', '.join(missing)}. Install it from a checkout of "
            'tunelab with: pip install "./packages/core[dashboard]" (or `uv sync '
            "--all-packages`, whose dev group has it)"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: any free port), with a clear error when the
    port is taken or the address is not this machine's."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"port={port!r}: expected an integer from 0 to 65535 (0: any free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ValueError(f"host={host!r}: not an address of this machine ({error})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise OSError(
                f"port={port} on {host} is already in use by another program; expected a free "
                "port: pass another with --port (or --port 0 to take any free one)"
            ) from None
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def ipaddress_is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def _where(directory: str | os.PathLike, project: str | None) -> str:
    """What is served, checked before the port is taken: the folder, or the database (and
    its `project`) reached and read once. Raises with a clear message otherwise."""
    if is_storage_url(directory):
        url = str(directory)
        if project is None:
            from tunelab.dashboard.sources import DatabaseProjects

            count = len(DatabaseProjects(url).find())  # StoreError if it cannot be read
            return f"{count} project(s) in {redact(url)}"
        if not isinstance(project, str) or not project:
            raise ValueError(f"project={project!r}: expected the name of a project in the database")
        open_url(url, project, read_only=True, retry_seconds=0).close()
        return f"project {project!r} in {redact(url)}"
    if project is not None:
        raise ValueError(
            f"--project {project!r} names a project in a database, but {str(directory)!r} is "
            "not a postgresql:// URL: give the project folder itself (directory/project_name)"
        )
    root = Path(directory)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise FileNotFoundError(
            f"directory={str(directory)!r} {what}; expected the folder of your projects "
            f"(the `directory` of a search) or one project folder holding {STORE_FILENAME}, "
            "or a postgresql:// URL"
        )
    from tunelab.dashboard.sources import FolderProjects

    return f"{len(FolderProjects(root).find())} project(s) under {root}"


def serve(
    directory: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8080,
    project: str | None = None,
) -> None:
    """Serve the dashboard of every project under `directory` until interrupted.

    Parameters
    ----------
    directory : str or Path
        A folder of projects (searched in its subfolders too) or one project folder; or
        the URL of a PostgreSQL database (``postgresql://user@host:5432/db``): every
        project stored there.
    host : str
        The address to listen on: this machine only by default.
    port : int
        The port (0: any free one; the address is printed).
    project : str, optional
        With a database URL, show only this project.
    """
    check_extra()
    what = _where(directory, project)
    import uvicorn

    from tunelab.dashboard.app import create_app

    sock = bind(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    if not ipaddress_is_loopback(sock.getsockname()[0]):
        print(
            f"tunelab dashboard: listening on {host}, beyond this machine: the page has no "
            "login, so anyone who can reach this address can read these projects",
            file=sys.stderr,
            flush=True,
        )
    print(f"tunelab dashboard: {what} at {url} (Ctrl-C to stop)", flush=True)
    app = create_app(str(directory) if is_storage_url(directory) else Path(directory), project)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    sys.stdout.flush()
