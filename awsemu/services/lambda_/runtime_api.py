"""The Lambda Runtime API (2018-06-01), served to execution environments over loopback HTTP.

Every environment gets its own listening socket on 127.0.0.1 (a free port, announced to it in
``AWS_LAMBDA_RUNTIME_API``), so a request needs no routing: the connection tells which environment
speaks. A listening socket costs a file descriptor and nothing per request. Routes (AWS's, see
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):

    GET  /2018-06-01/runtime/invocation/next            long poll for the next event
    POST /2018-06-01/runtime/invocation/{id}/response   the handler's result
    POST /2018-06-01/runtime/invocation/{id}/error      the handler's error document
    POST /2018-06-01/runtime/init/error                 the runtime could not start

``next`` answers with the event as body and the headers ``Lambda-Runtime-Aws-Request-Id``,
``Lambda-Runtime-Deadline-Ms``, ``Lambda-Runtime-Invoked-Function-Arn``, ``Lambda-Runtime-Trace-Id``
(and ``Lambda-Runtime-Client-Context`` when given). The HTTP/1.1 server is a few lines of asyncio
streams: keep-alive, Content-Length or chunked request bodies, TCP_NODELAY on every connection (a
warm invoke is two tiny request/response exchanges; Nagle's delay would dominate it).
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import Protocol

PREFIX = "/2018-06-01/runtime"
MAX_BODY = 6 * 1024 * 1024 + 1024  # Lambda's synchronous response limit, plus headers' slack


@dataclass
class NextEvent:
    """What ``/invocation/next`` hands the runtime."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None


class RuntimeHandler(Protocol):
    """The environment side of the API (implemented by pool.Environment)."""

    async def next_event(self) -> NextEvent: ...

    def invocation_response(self, request_id: str, body: bytes) -> bool: ...

    def invocation_error(self, request_id: str, body: bytes, error_type: str) -> bool: ...

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


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            length = int(line.split(b";")[0].strip() or b"0", 16)
            if length == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            size += length
            if size > MAX_BODY:
                raise ValueError("body too large")
            parts.append(await reader.readexactly(length))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise ValueError("body too large")
    return await reader.readexactly(length) if length else b""


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
                try:
                    body = await _read_body(reader, headers)
                except ValueError:
                    writer.write(_error(413, "RequestEntityTooLarge", "request body too large"))
                    await writer.drain()
                    return
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                answer = await self._route(method, target, headers, body)
                writer.write(answer)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
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
            if rest[2] == "response":
                known = self.handler.invocation_response(request_id, body)
            else:
                known = self.handler.invocation_error(request_id, body, error_type or "Unhandled")
            if not known:
                return _error(400, "InvalidRequestID", f"Invalid request ID: {request_id}")
            return _response(202, _status("OK"))
        if method == "POST" and rest == ["init", "error"]:
            self.handler.init_error(body, error_type or "Runtime.Unknown")
            return _response(202, _status("OK"))
        return _error(404, "InvalidRequest", f"no route {method} {path}")
