"""``awsemu serve``: bind, open the data dir, run uvicorn (httptools + uvloop) until SIGTERM/SIGINT.

We bind the socket ourselves so a taken port is a one-line error, and so ``--port 0`` works: the
``awsemu ready on http://host:port`` line on stdout tells scripts (and our test fixture) where we are.
uvicorn turns SIGTERM/SIGINT into a graceful shutdown; the app's lifespan then stops providers and
flushes and closes the engines, and we exit 0.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys

import uvicorn

from awsemu.app import create_app
from awsemu.config import Config
from awsemu.datadir import DataDir, DataDirError

_LEVELS = {"trace": 5, "debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            print(f"awsemu ready on http://{shown}:{port}", flush=True)


def _after_graceful_shutdown(signum: int, frame: object) -> None:
    """Swallow the signal uvicorn re-raises after its graceful shutdown."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(f"port {port} on {host} is already in use") from None
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: Config) -> int:
    logging.basicConfig(
        level=_LEVELS.get(config.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        sock = _bind(config.host, config.port)
    except OSError as exc:
        print(f"awsemu: error: {exc}", file=sys.stderr)
        return 1
    try:
        data_dir = DataDir.acquire(config.data_dir, config.ephemeral)
    except DataDirError as exc:
        sock.close()
        print(f"awsemu: error: {exc}", file=sys.stderr)
        return 1
    app = create_app(config, data_dir)
    server = _Server(
        uvicorn.Config(
            app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_config=None,
            log_level=_LEVELS.get(config.log_level, logging.INFO),
            server_header=False,
            timeout_graceful_shutdown=2,
        )
    )
    # uvicorn re-raises the stop signal once it has shut down gracefully; with these handlers
    # underneath its own, that re-raise is a no-op and a SIGTERM/SIGINT stop exits 0 as documented.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _after_graceful_shutdown)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if app.data_dir is not None:
            app.data_dir.release()
    if not server.started:
        print("awsemu: error: the server failed to start (see the log above)", file=sys.stderr)
        return 1
    return 0
