"""InvokeWithResponseStream: a synchronous invoke whose answer travels as an event stream.

The HTTP response is 200 with ``Content-Type: application/vnd.amazon.eventstream`` (the model binds
``ResponseStreamContentType`` to that header, so that is its value) and a body of framed events
(event_stream.py): ``PayloadChunk`` events carrying the function's response bytes, then one
``InvokeComplete`` event with ``ErrorCode``/``ErrorDetails`` when the function failed and
``LogResult`` (the base64 log tail) when ``LogType=Tail`` asked for it.

Where the chunks come from:

- a runtime that streams (``Lambda-Runtime-Function-Response-Mode: streaming`` on its response, as
  custom runtimes and Node's streamifyResponse do): one PayloadChunk per HTTP chunk it sent; an
  error it reports in the trailers ends the stream with that error type after the chunks it sent;
- a buffered runtime (the Python runtime, AWS's included, does not stream): its whole response,
  cut into chunks of at most ``CHUNK_BYTES``;
- a function error of a buffered runtime (handler exception, timeout, init failure): no payload,
  ``ErrorCode`` the error type and ``ErrorDetails`` the error message.

Timing: a streaming runtime's chunks are framed and sent as they reach the Runtime API, while the
function still runs (the HTTP response is chunked), up to 20 MiB (runtime_api.MAX_STREAMED_BODY;
beyond it the stream ends with ``Function.ResponseSizeTooLarge``). Nothing holds the whole stream:
the frames wait in a bounded queue (stream_buffer.py) whose bound makes the Runtime API stop
reading the runtime's socket until the client has caught up. The response starts once the first chunk
arrives or the invocation ends, so a throttled or failed start is still an HTTP error; if the client
goes away mid-stream the invocation is cancelled (its environment discarded).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.lambda_ import event_stream
from awsemu.services.lambda_.checks import check_invoke_input
from awsemu.services.lambda_.errors import validation
from awsemu.services.lambda_.invoke import Caller, InvokeResult, Invoker
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.stream_buffer import ChunkQueue

CHUNK_BYTES = 64 * 1024
STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _error_details(result: InvokeResult) -> tuple[str, str]:
    """(ErrorCode, ErrorDetails) of a failed invocation, from the runtime's error document."""
    try:
        document = json.loads(result.payload or b"null")
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {}
    code = result.error_type or str(document.get("errorType") or result.function_error or "Unhandled")
    details = document.get("errorMessage")
    return code, str(details) if details is not None else result.payload.decode("utf-8", "replace")


def stream_events(result: InvokeResult, streamed: bool = False) -> list[bytes]:
    """The framed events that tell ``result``: PayloadChunks (unless ``streamed`` live already),
    then InvokeComplete."""
    if streamed:
        pieces: list[bytes] = []
    elif result.chunks is not None:
        pieces = [chunk for chunk in result.chunks if chunk]
    elif result.function_error is None:
        data = result.payload
        pieces = [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
    else:
        pieces = []
    frames = [event_stream.event("PayloadChunk", piece) for piece in pieces]
    complete: dict[str, Any] = {"LogResult": result.log_result}
    if result.function_error is not None:
        complete["ErrorCode"], complete["ErrorDetails"] = _error_details(result)
    frames.append(event_stream.json_event("InvokeComplete", complete))
    return frames


class LiveStream:
    """One invocation's frames as they happen: chunks pushed by the Runtime API, then the end."""

    def __init__(self) -> None:
        self.frames = ChunkQueue()
        self.streamed = False
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_chunk(self, chunk: bytes, content_type: str = "") -> "asyncio.Future[None] | None":
        """Queue a chunk's frame; returns a future to await (the client is behind) or None."""
        if not chunk:
            return None
        self.streamed = True
        if not self.started.done():
            self.started.set_result(None)
        return self.frames.put(event_stream.event("PayloadChunk", chunk))

    async def emit(self, task: asyncio.Task[InvokeResult]) -> AsyncIterator[bytes]:
        """The body: live frames until the invocation ends, then the rest and InvokeComplete."""
        task.add_done_callback(lambda _: self.frames.put(None))
        try:
            while (frame := await self.frames.get()) is not None:
                yield frame
            while not self.frames.empty():  # chunks queued before the end marker's callback ran
                frame = self.frames.get_nowait()
                if frame is not None:
                    yield frame
            try:
                result = task.result()
            except ServiceError as error:  # after the stream began: the status went out as 200 already
                yield event_stream.json_event("InvokeComplete", {"ErrorCode": error.code, "ErrorDetails": error.message})
                return
            for frame in stream_events(result, self.streamed):
                yield frame
        finally:
            self.frames.close()
            if not task.done():  # the client went away mid-stream
                task.cancel()


class ResponseStreamOperations(ProviderParts):
    invoker: Invoker

    async def invoke_with_response_stream(self, ctx: CallContext, FunctionName: str,
                                          InvocationType: str | None = None, LogType: str | None = None,
                                          ClientContext: str | None = None, Payload: bytes | None = None,
                                          Qualifier: str | None = None, **unused: Any) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        kind = InvocationType or "RequestResponse"
        if kind not in ("RequestResponse", "DryRun"):
            raise validation(kind, "invocationType", "Member must satisfy enum value set: [RequestResponse, DryRun]")
        payload = Payload or b""
        client_context = await check_invoke_input(payload, ClientContext)
        meta, config = await self._lookup(fn, qualifier)
        if kind == "DryRun":
            return {"StatusCode": 204}
        live = LiveStream()
        task = asyncio.ensure_future(self.invoker.invoke(
            config, meta.reserved_concurrency, payload, Caller(ctx.endpoint), invoked_arn=self._arn(fn, qualifier),
            tail=LogType == "Tail", client_context=client_context, on_chunk=live.on_chunk))
        try:
            await asyncio.wait({task, live.started}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task.done():
            result = task.result()  # a throttle (or any error) before the stream began is the HTTP answer
            executed = result.executed_version
        else:
            executed = config.version
        return {
            "StatusCode": 200,
            "ExecutedVersion": executed,
            "ResponseStreamContentType": STREAM_CONTENT_TYPE,
            "EventStream": live.emit(task),
        }
