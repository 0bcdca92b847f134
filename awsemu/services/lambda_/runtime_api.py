"""The Lambda Runtime API (2018-06-01), served to execution environments over loopback HTTP.

Every environment gets its own listening socket on 127.0.0.1 (a free port, announced to it in
``AWS_LAMBDA_RUNTIME_API``), so a request needs no routing: the connection tells which environment
speaks. A listening socket costs a file descriptor and nothing per request. Routes (AWS's, see
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):

    GET  /2018-06-01/runtime/invocation/next            long poll for the next event
    POST /2018-06-01/runtime/invocation/{id}/response   the handler's result
    POST /2018-06-01/runtime/invocation/{id}/error      the handler's error document
    POST /2018-06-01/runtime/init/error                 the runtime could not start

A response posted with ``Lambda-Runtime-Function-Response-Mode: streaming`` (chunked) is passed on
chunk by chunk as it arrives (``invocation_chunk``: InvokeWithResponseStream emits one PayloadChunk
per chunk, at most READ_PIECE bytes, while the function still runs). When the invocation streams to
its caller (``streams_live``) nothing of it is kept here and it may reach 20 MiB, AWS's streamed
response limit (past it the invocation fails with ``Function.ResponseSizeTooLarge``); the listener
may answer a chunk with an awaitable, and the next one is read from the socket only once it is done
(the client's pace, stream_buffer.py). Otherwise (a plain Invoke of a streaming function) the body is
collected, within the 6 MB of a buffered response. An error the runtime reports mid-stream travels
in the trailers ``Lambda-Runtime-Function-Error-Type`` and ``Lambda-Runtime-Function-Error-Body``
(base64), as AWS's streaming runtimes send it.

``next`` answers with the event as body and the headers ``Lambda-Runtime-Aws-Request-Id``,
``Lambda-Runtime-Deadline-Ms``, ``Lambda-Runtime-Invoked-Function-Arn``, ``Lambda-Runtime-Trace-Id``
(and ``Lambda-Runtime-Client-Context`` when given). The HTTP/1.1 server is a few lines of asyncio
streams: keep-alive, Content-Length or chunked request bodies, TCP_NODELAY on every connection (a
warm invoke is two tiny request/response exchanges; Nagle's delay would dominate it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

PREFIX = "/2018-06-01/runtime"
MAX_BUFFERED = 6 * 1024 * 1024  # Lambda's synchronous (buffered) response limit
MAX_BODY = MAX_BUFFERED + 1024  # ... plus headers' slack
MAX_STREAMED_BODY = 20 * 1024 * 1024  # a streamed response's limit
READ_PIECE = 64 * 1024  # a big HTTP chunk of a streamed response is passed on in pieces of this size
# Hears a streamed response: (chunk, the Content-Type the runtime gave the stream, "" if none); may
# answer with an awaitable: the next chunk is read once it is done (backpressure).
ChunkListener = Callable[[bytes, str], "Awaitable[None] | None"]
TOO_LARGE = "Function.ResponseSizeTooLarge"


@dataclass
class NextEvent:
    """What ``/invocation/next`` hands the runtime."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None


@dataclass
class PostedBody:
    """A request body as received: whole, plus its chunks and trailers when it came chunked."""

    data: bytes
    chunks: list[bytes] | None = None
    trailers: dict[str, str] = field(default_factory=dict)


class RuntimeHandler(Protocol):
    """The environment side of the API (implemented by pool.Environment)."""

    async def next_event(self) -> NextEvent: ...

    def invocation_response(self, request_id: str, body: bytes, chunks: list[bytes] | None = None) -> bool: ...

    def invocation_error(self, request_id: str, body: bytes, error_type: str,
                         chunks: list[bytes] | None = None) -> bool: ...

    def invocation_chunk(self, request_id: str, chunk: bytes, content_type: str) -> "Awaitable[None] | None": ...

    def streams_live(self, request_id: str) -> bool: ...

    def init_error(self, body: bytes, error_type: str) -> None: ...


_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large",
            500: "Internal Server Error"}


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}", "Content-Type: application/json",
             f"Content-Length: {len(body)}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _status(message: str) -> bytes:
    return json.dumps({"status": message}).encode()


def _error(status: int, error_type: str, message: str) -> bytes:
    return _response(status, json.dumps({"errorType": error_type, "errorMessage": message}).encode())


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str],
                     on_chunk: Callable[[bytes], "Awaitable[None] | None"] | None = None, limit: int = MAX_BODY,
                     keep: bool = True) -> PostedBody:
    """The body; a chunked one is also handed to ``on_chunk`` piece by piece as it arrives (each
    piece's awaitable awaited before the next read), and only collected when ``keep``."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        trailers: dict[str, str] = {}
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            length = int(line.split(b";")[0].strip() or b"0", 16)
            if length == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    name, _, value = trailer.decode("latin-1").partition(":")
                    trailers[name.strip().lower()] = value.strip()
                return PostedBody(b"".join(parts), parts if keep else None, trailers)
            size += length
            if size > limit:
                raise ValueError("body too large")
            while length:
                piece = await reader.readexactly(min(length, READ_PIECE if on_chunk is not None else length))
                length -= len(piece)
                if keep:
                    parts.append(piece)
                if on_chunk is not None and (pending := on_chunk(piece)) is not None:
                    await pending
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise ValueError("body too large")
    return PostedBody(await reader.readexactly(length) if length else b"")


def _stream_error(trailers: dict[str, str]) -> tuple[str, bytes] | None:
    """(error type, error document) a streaming runtime reported in its trailers, if any."""
    error_type = trailers.get("lambda-runtime-function-error-type")
    if not error_type:
        return None
    try:
        body = base64.b64decode(trailers.get("lambda-runtime-function-error-body", ""), validate=True)
    except (ValueError, binascii.Error):
        body = b""
    return error_type, body or json.dumps({"errorType": error_type, "errorMessage": error_type}).encode()


class RuntimeApiServer:
    """One environment's Runtime API endpoint: ``await start()``, then ``address`` is host:port."""

    def __init__(self, handler: RuntimeHandler) -> None:
        self.handler = handler
        self.server: asyncio.AbstractServer | None = None
        self.address = ""
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=16)
        port = self.server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"
        return self.address

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self._connections):
            writer.close()
        self._connections.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._connections.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                parts = request_line.split(" ")
                if len(parts) < 2:
                    return
                method, target = parts[0].upper(), parts[1].split("?", 1)[0]
                headers: dict[str, str] = {}
                for line in header_lines:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                on_chunk, limit, live = self._streamed(method, target, headers)
                try:
                    posted = await _read_body(reader, headers, on_chunk, limit, keep=not live)
                except ValueError:
                    if on_chunk is not None:  # a streamed response past its limit fails its invocation
                        self._too_large(target, MAX_STREAMED_BODY if live else MAX_BUFFERED)
                    writer.write(_error(413, "RequestEntityTooLarge", "request body too large"))
                    await writer.drain()
                    return
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                answer = await self._route(method, target, headers, posted)
                writer.write(answer)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def _streamed(self, method: str, path: str, headers: dict[str, str]
                  ) -> tuple[Callable[[bytes], "Awaitable[None] | None"] | None, int, bool]:
        """(chunk callback, size limit, whether the caller hears it live) of a request body: a
        streaming response is passed on as it arrives."""
        if method != "POST" or headers.get("lambda-runtime-function-response-mode", "").lower() != "streaming":
            return None, MAX_BODY, False
        rest = path[len(PREFIX) + 1:].strip("/").split("/") if path.startswith(PREFIX + "/") else []
        if len(rest) != 3 or rest[0] != "invocation" or rest[2] != "response":
            return None, MAX_BODY, False
        request_id, content_type = rest[1], headers.get("content-type", "")
        live = self.handler.streams_live(request_id)
        return ((lambda chunk: self.handler.invocation_chunk(request_id, chunk, content_type)),
                MAX_STREAMED_BODY if live else MAX_BODY, live)

    def _too_large(self, path: str, limit: int) -> None:
        request_id = path[len(PREFIX) + 1:].strip("/").split("/")[1]
        message = f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
        self.handler.invocation_error(request_id, json.dumps({"errorMessage": message, "errorType": TOO_LARGE})
                                      .encode(), TOO_LARGE)

    async def _route(self, method: str, path: str, headers: dict[str, str], posted: PostedBody) -> bytes:
        if not path.startswith(PREFIX + "/"):
            return _error(404, "InvalidRequest", f"no route {method} {path}")
        rest = path[len(PREFIX) + 1:].strip("/").split("/")
        error_type = headers.get("lambda-runtime-function-error-type", "")
        if method == "GET" and rest == ["invocation", "next"]:
            event = await self.handler.next_event()
            out = {
                "Lambda-Runtime-Aws-Request-Id": event.request_id,
                "Lambda-Runtime-Deadline-Ms": str(event.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": event.function_arn,
                "Lambda-Runtime-Trace-Id": event.trace_id,
            }
            if event.client_context:
                out["Lambda-Runtime-Client-Context"] = event.client_context
            return _response(200, event.payload, out)
        if method == "POST" and len(rest) == 3 and rest[0] == "invocation" and rest[2] in ("response", "error"):
            request_id = rest[1]
            streaming = headers.get("lambda-runtime-function-response-mode", "").lower() == "streaming"
            failed = _stream_error(posted.trailers) if streaming else None
            if rest[2] == "error":
                known = self.handler.invocation_error(request_id, posted.data, error_type or "Unhandled")
            elif failed is not None:
                # the chunks streamed before the failure still reached the client
                known = self.handler.invocation_error(request_id, failed[1], failed[0], posted.chunks)
            else:
                known = self.handler.invocation_response(request_id, posted.data,
                                                         posted.chunks if streaming else None)
            if not known:
                return _error(400, "InvalidRequestID", f"Invalid request ID: {request_id}")
            return _response(202, _status("OK"))
        if method == "POST" and rest == ["init", "error"]:
            self.handler.init_error(posted.data, error_type or "Runtime.Unknown")
            return _response(202, _status("OK"))
        return _error(404, "InvalidRequest", f"no route {method} {path}")
