"""awsemu's own routes: health, reset, and LocalStack's health shape for existing wait scripts.

- ``GET /_awsemu/health``: version, each service and its state, data dir, uptime (+ last scrub).
- ``POST /_awsemu/reset[?service=s3]``: wipe all state, or one service's.
- ``GET|HEAD /_localstack/health``: ``{"services": {...}, "edition": ..., "version": ...}`` as
  LocalStack answers, so testcontainers and wait-for-ready scripts work unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from awsemu.app import AwsemuApp

# LocalStack reports these states; ours map onto them.
_LOCALSTACK_STATE = {"running": "running", "available": "available", "unavailable": "disabled"}


def internal_routes(app: "AwsemuApp") -> Starlette:
    async def health(request: Request) -> Response:
        return JSONResponse(app.health())

    async def reset(request: Request) -> Response:
        service = request.query_params.get("service")
        if service:
            if service not in app.config.services:
                return JSONResponse(
                    {"error": "UnknownService", "message": f"awsemu does not serve {service!r}"}, status_code=400
                )
            targets = [service]
        else:
            targets = list(app.config.services)
        done = []
        for name in targets:
            provider = app.providers.get(name)
            if provider is not None:
                provider.reset()
                done.append(name)
        return JSONResponse({"reset": done})

    async def localstack_health(request: Request) -> Response:
        from awsemu import __version__

        services = {name: _LOCALSTACK_STATE.get(state, state) for name, state in app.service_states().items()}
        return JSONResponse({"services": services, "edition": "community", "version": f"awsemu-{__version__}"})

    return Starlette(
        routes=[
            Route("/_awsemu/health", health, methods=["GET", "HEAD"]),
            Route("/_awsemu/reset", reset, methods=["POST"]),
            Route("/_localstack/health", localstack_health, methods=["GET", "HEAD"]),
        ]
    )
