"""Function URLs with ``InvokeMode: RESPONSE_STREAM``: the function's bytes go out as they come.

The invocation runs with a chunk listener (runtime_api.py passes a streaming runtime's chunks on
as they arrive); the HTTP response starts when the first chunk arrives:

- a stream whose Content-Type is ``application/vnd.awslambda.http-integration-response`` (Node's
  ``awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies})``) begins with a JSON
  prelude and eight NUL bytes: the prelude gives the status, headers and cookies, the rest is body;
- any other stream is a 200 with the stream's Content-Type (``application/octet-stream`` if none);
- a runtime that does not stream (the Python runtime) answers as in BUFFERED mode
  (function_url_http.http_response), since its whole answer exists at once.

An error after the first chunk ends the body early (the status went out already), as in AWS; the
client going away cancels the invocation. Up to 20 MiB stream (runtime_api.MAX_STREAMED_BODY), held
in a bounded queue (stream_buffer.py) that slows the runtime down to the client's pace.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from awsemu.services.lambda_.function_url_http import Response, http_response
from awsemu.services.lambda_.invoke import InvokeResult
from awsemu.services.lambda_.stream_buffer import ChunkQueue

HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\x00" * 8
MAX_PRELUDE = 64 * 1024
BAD_GATEWAY: Response = (502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}')


class UrlStream:
    """One invocation's chunks, queued for the HTTP response (None marks the end)."""

    def __init__(self) -> None:
        self.chunks = ChunkQueue()
        self.content_type = ""
        self.streamed = False
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_chunk(self, chunk: bytes, content_type: str) -> "asyncio.Future[None] | None":
        """Queue a chunk; returns a future to await (the client is behind) or None."""
        if not chunk:
            return None
        self.content_type = content_type or self.content_type
        self.streamed = True
        if not self.started.done():
            self.started.set_result(None)
        return self.chunks.put(chunk)


def _prelude(raw: bytes) -> tuple[int, list[tuple[str, str]]] | None:
    try:
        meta = json.loads(raw or b"{}")
        status = int(meta.get("statusCode", 200))
    except (ValueError, TypeError, AttributeError):
        return None
    headers = [(str(k).lower(), str(v)) for k, v in (meta.get("headers") or {}).items()
               if str(k).lower() not in ("content-length", "transfer-encoding", "connection")]
    headers += [("set-cookie", str(cookie)) for cookie in meta.get("cookies") or []]
    if not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/octet-stream"))
    return status, headers


async def respond(task: asyncio.Task[InvokeResult], stream: UrlStream) -> Response:
    """(status, headers, body) of a RESPONSE_STREAM URL; the body is an async iterator when streamed.
    Raises what the invocation raised before it began (throttling, a deleted function)."""
    task.add_done_callback(lambda _: stream.chunks.put(None))
    try:
        await asyncio.wait({task, stream.started}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not stream.streamed:
        result = task.result()
        return http_response(result.payload, result.function_error)
    first = b""
    if stream.content_type.split(";")[0].strip().lower() == HTTP_INTEGRATION:
        buffered = b""
        while DELIMITER not in buffered and len(buffered) <= MAX_PRELUDE:
            chunk = await stream.chunks.get()
            if chunk is None:
                break
            buffered += chunk
        if DELIMITER not in buffered:
            stream.chunks.close()
            task.cancel()
            return BAD_GATEWAY
        raw, first = buffered.split(DELIMITER, 1)
        parsed = _prelude(raw)
        if parsed is None:
            stream.chunks.close()
            task.cancel()
            return BAD_GATEWAY
        status, headers = parsed
    else:
        status, headers = 200, [("content-type", stream.content_type or "application/octet-stream")]
    return status, headers, _body(task, stream, first)


async def _body(task: asyncio.Task[Any], stream: UrlStream, first: bytes) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        while (chunk := await stream.chunks.get()) is not None:
            yield chunk
    finally:
        stream.chunks.close()
        if not task.done():  # the client went away
            task.cancel()
        elif not task.cancelled():
            task.exception()  # a late failure only shortens the body: mark it seen
