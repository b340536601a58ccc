"""A live web page over the trial stores of a folder: ``tunelab dashboard DIR``.

The server (Starlette, uvicorn) and the charts (plotly) are the optional extra
``tunelab[dashboard]``; they are imported only when the dashboard starts, so
``import tunelab`` stays light. The stores are opened read-only and read through the
storage interface (`tunelab.dashboard.data`); searches may write to them meanwhile.
"""

from __future__ import annotations

import errno
import importlib
import os
import socket
import sys
from pathlib import Path

from tunelab.storage import STORE_FILENAME

__all__ = ["EXTRA", "bind", "check_extra", "serve"]

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


def serve(directory: str | os.PathLike, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the dashboard of every project under `directory` until interrupted.

    Parameters
    ----------
    directory : str or Path
        A folder of projects (searched in its subfolders too) or one project folder.
    host : str
        The address to listen on: this machine only by default.
    port : int
        The port (0: any free one; the address is printed).
    """
    check_extra()
    root = Path(directory)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise FileNotFoundError(
            f"directory={str(directory)!r} {what}; expected the folder of your projects "
            f"(the `directory` of a search) or one project folder holding {STORE_FILENAME}"
        )
    import uvicorn

    from tunelab.dashboard.app import create_app
    from tunelab.dashboard.data import Projects

    sock = bind(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    count = len(Projects(root).find())
    print(
        f"tunelab dashboard: {count} project(s) under {root} at {url} (Ctrl-C to stop)",
        flush=True,
    )
    config = uvicorn.Config(create_app(root), log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    sys.stdout.flush()
