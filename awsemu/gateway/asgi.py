"""The ASGI edge for AWS requests: build the WireRequest, pick the service, identify the caller,
parse with the service's codec, run the provider, serialize. One log line per request.

This is a bare ASGI callable rather than a starlette route: every AWS request goes through it, and
a router in front would only add matching work (internal routes are split off before it, in app.py).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Awaitable, Callable, MutableMapping

from awsemu.auth.enforcement import AuthGuard
from awsemu.auth.identity import identify
from awsemu.gateway import function_urls, s3_edge, service_router
from awsemu.gateway.errors import unknown_service_response
from awsemu.protocol import awschunked
from awsemu.protocol.http import Headers, WireRequest, WireResponse, form_pairs
from awsemu.protocol.registry import codec_for
from awsemu.services.base import CallContext, Provider, ServiceError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("awsemu.request")

_ID_PREFIX = str(uuid.uuid4())[:24]  # "xxxxxxxx-xxxx-4xxx-xxxx-"
_ID_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


def new_request_id() -> str:
    """A UUID-shaped request id, unique within the process (random prefix + counter): uuid4() per
    request costs several microseconds of a ~25 us request path."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


# How a provider method runs: awaited on the loop, called on the loop, or in a worker thread.
_ASYNC, _INLINE, _THREAD = "async", "inline", "thread"


class NotImplementedOperation(ServiceError):
    code = "NotImplemented"
    status = 501


class _BodyState:
    __slots__ = ("finished",)

    def __init__(self) -> None:
        self.finished = False


def _body_reader(
    receive: Receive, state: _BodyState
) -> tuple[Callable[[], Awaitable[bytes]], Callable[[], AsyncIterator[bytes]]]:
    """Two views of one ASGI body: read it whole, or stream it chunk by chunk (only one is used)."""

    async def read() -> bytes:
        parts: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            parts.append(message.get("body", b""))
            more = message.get("more_body", False)
        state.finished = True
        return b"".join(parts)

    async def stream() -> AsyncIterator[bytes]:
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("client disconnected during the request body")
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            if chunk:
                yield chunk
        state.finished = True

    return read, stream


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return (length is not None and length.strip() not in ("", "0")) or "transfer-encoding" in headers


def _aws_chunked(
    raw: Callable[[], AsyncIterator[bytes]], decoded_length: str | None
) -> tuple[Callable[[], Awaitable[bytes]], Callable[[], AsyncIterator[bytes]]]:
    """Both body views decode the aws-chunked framing; the streamed one exposes ``.trailers``."""

    def stream() -> Any:
        return awschunked.decode_stream(raw(), decoded_length)

    async def read() -> bytes:
        return b"".join([chunk async for chunk in stream()])

    return read, stream


def _endpoint(scope: Scope, headers: Headers) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 4566)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


class Gateway:
    """Dispatches AWS requests to providers. Providers are created by the app at start-up."""

    def __init__(self, providers: dict[str, Provider], executor: ThreadPoolExecutor) -> None:
        self.providers = providers
        self.executor = executor
        # Set by the app once the providers exist (the guard reads IAM keys and resource policies).
        self.auth_guard: AuthGuard | None = None
        self._handlers: dict[tuple[str, str], tuple[Callable[..., Any], str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = Headers.from_asgi(scope["headers"])
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        body_state = _BodyState()
        read, stream = _body_reader(receive, body_state)
        if ".lambda-url." in (headers.get("host") or "") and service_router.function_url_route(headers["host"]):
            await self._function_url(scope, headers, raw_path, read, send, started)
            return
        if awschunked.is_aws_chunked(headers.get("x-amz-content-sha256"), headers.get("content-encoding")):
            read, stream = _aws_chunked(stream, headers.get("x-amz-decoded-content-length"))
        request = WireRequest(
            method=scope["method"],
            raw_path=raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            read_body=read,
            stream=stream,
        )
        # The guard's identify shares the verifier's parse of the Authorization head (sigv4/iam).
        guard = self.auth_guard
        identity = (guard.identify if guard is not None else identify)(headers.get("authorization"),
                                                                       request.query_string)
        form_action = None
        if service_router.needs_form_action(request, identity.signing_service):
            source = request.query_string if request.method == "GET" else (await request.body()).decode("latin-1")
            form_action = next((v for k, v in form_pairs(source) if k == "Action"), "")
        route = service_router.resolve(request, identity.signing_service, form_action)
        request_id = new_request_id()
        service = route.service if route else (identity.signing_service or "unknown")
        operation_name = "-"
        if route is None:
            response = unknown_service_response(request, service, request_id)
        else:
            request.host_bucket = route.host_bucket
            response, operation_name = await self._dispatch(route, request, identity, scope, request_id)
            if route.service == "s3":
                s3_edge.add_cors_headers(request, response, self.providers.get("s3"))
        if not body_state.finished and _has_body(headers):
            # Answered before the body was read (an early error): a client that sent
            # `Expect: 100-continue` would wait for a 100 that never comes, and unread bytes would
            # be parsed as the next request. Closing the connection settles both.
            response.headers.append(("Connection", "close"))
        await self._send(send, response, request.method)
        log.info(
            "%s %s %d %.1fms",
            service,
            operation_name,
            response.status,
            (time.perf_counter() - started) * 1000,
        )

    async def _function_url(self, scope: Scope, headers: Headers, raw_path: Any,
                            read: Callable[[], Awaitable[bytes]], send: Send, started: float) -> None:
        """A request on a Lambda function URL: plain HTTP handed to the Lambda provider as data
        (function_urls.py; AWS_IAM URLs are verified there)."""
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path
        try:
            response = await function_urls.serve(self.providers.get("lambda"), self.auth_guard, scope, headers, path,
                                                 read, _endpoint(scope, Headers()))  # awsemu itself, not the URL's host
        except Exception:
            log.exception("internal error serving a function URL")
            response = WireResponse(status=500, headers=[("content-type", "application/json")],
                                    body=b'{"Message":null}')
        await self._send(send, response, scope["method"])
        log.info("lambda function-url %d %.1fms", response.status, (time.perf_counter() - started) * 1000)

    async def _dispatch(
        self, route: service_router.Route, request: WireRequest, identity: Any, scope: Scope, request_id: str
    ) -> tuple[WireResponse, str]:
        codec = codec_for(route.service, route.protocol)
        operation = None
        try:
            if route.service == "s3":
                answer = await s3_edge.before_operation(
                    request, self.providers.get("s3"),
                    lambda name: self._context(route, name, identity, scope, request, request_id),
                    codec.base_headers(request_id),  # type: ignore[attr-defined]
                    self.auth_guard,
                )
                if answer is not None:
                    return answer, "PostObject" if request.method == "POST" else "Preflight"
            parsed = await codec.parse(request)
            operation = parsed.operation
            # Auth (awsemu/auth/enforcement.py): identify IAM/STS keys; verify in sigv4 mode; authorize
            # in iam mode. Off mode with a non-IAM key costs two attribute reads. A request without
            # a body is admitted by a plain call; the rest await the body first.
            guard = self.auth_guard
            if guard is not None and (guard.mode != "off" or identity.access_key_id[:4] in ("AKIA", "ASIA")):
                peer = scope.get("client") or ("127.0.0.1", 0)
                secure = scope.get("scheme") == "https"
                admitted = guard.admit(route.service, route.protocol, operation.name, request, parsed.params,
                                       identity, peer[0], secure)
                identity = admitted if admitted is not None else await guard.check(
                    service=route.service, protocol=route.protocol, operation=operation.name, request=request,
                    params=parsed.params, identity=identity, source_ip=peer[0], secure=secure,
                )
            handler, kind = self._handler(route.service, operation.name)
            if handler is None:
                raise NotImplementedOperation(
                    f"The {operation.name} operation of {route.service} is not implemented by awsemu yet."
                )
            ctx = self._context(route, operation.name, identity, scope, request, request_id)
            if kind is _ASYNC:
                output = await handler(ctx, **parsed.params)
            elif kind is _INLINE:
                output = handler(ctx, **parsed.params)
            else:
                loop = asyncio.get_running_loop()
                output = await loop.run_in_executor(self.executor, lambda: handler(ctx, **parsed.params))
            return codec.serialize(operation, output or {}, request_id), operation.name
        except ServiceError as error:
            return codec.serialize_error(operation, error, request_id), operation.name if operation else "-"
        except Exception:
            log.exception("internal error in %s %s", route.service, operation.name if operation else "-")
            failure = ServiceError(
                "We encountered an internal error. Please try again.",
                code="InternalError" if route.protocol == "rest-xml" else "InternalFailure",
                status=500,
                sender_fault=False,
            )
            return codec.serialize_error(operation, failure, request_id), operation.name if operation else "-"

    def _handler(self, service: str, operation: str) -> tuple[Callable[..., Any] | None, str]:
        """The provider method of an operation and how to run it, looked up once per operation."""
        key = (service, operation)
        found = self._handlers.get(key)
        if found is None:
            provider = self.providers.get(service)
            handler = provider.handler_for(operation) if provider else None
            if handler is None:
                return None, _THREAD  # not cached: a provider may be added later (tests)
            if inspect.iscoroutinefunction(handler):
                kind = _ASYNC
            elif getattr(handler, "runs_inline", False):
                kind = _INLINE
            else:
                kind = _THREAD
            found = self._handlers[key] = (handler, kind)
        return found

    @staticmethod
    def _context(route: service_router.Route, operation: str, identity: Any, scope: Scope, request: WireRequest,
                 request_id: str) -> CallContext:
        client = scope.get("client") or ("127.0.0.1", 0)
        return CallContext(
            service=route.service,
            operation=operation,
            account_id=identity.account_id,
            region=identity.region,
            access_key_id=identity.access_key_id,
            principal_arn=identity.principal_arn,
            user_id=identity.user_id,
            request_id=request_id,
            endpoint=_endpoint(scope, request.headers),
            source_ip=client[0],
            secure_transport=scope.get("scheme") == "https",
        )

    @staticmethod
    async def _send(send: Send, response: WireResponse, method: str) -> None:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        body = response.body
        if isinstance(body, (bytes, bytearray)):
            if not any(k.lower() == "content-length" for k, _ in response.headers):
                raw_headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": b"" if method == "HEAD" else bytes(body)})
            return
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        try:
            async for chunk in body:
                if chunk and method != "HEAD":
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                await aclose()
        await send({"type": "http.response.body", "body": b""})

