"""Streamed responses up to 20 MiB (AWS's limit for streaming; a buffered response stops at 6 MB),
through InvokeWithResponseStream and a RESPONSE_STREAM function URL, and the bounded queue that keeps
a slow client from making the server hold a whole stream."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from typing import Any
from urllib.parse import urlsplit

from awsemu.services.lambda_.stream_buffer import ChunkQueue
from lambda_helpers import ROLE, make_zip, url_request

MIB = 1024 * 1024

# A custom runtime that streams event["size"] bytes (piece i is byte i % 251, 256 KiB each) as it
# produces them: one chunked POST written piece by piece.
BIG_STREAM_BOOTSTRAP = """\
#!{python}
import json, os, socket
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = "/2018-06-01/runtime"
PIECE = 256 * 1024

def read_response(s):
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        more = s.recv(65536)
        if not more:
            return {{}}, b""
        data += more
    top, rest = data.split(b"\\r\\n\\r\\n", 1)
    lines = top.decode().split("\\r\\n")
    headers = {{k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}}
    size = int(headers.get("content-length", "0"))
    while len(rest) < size:
        rest += s.recv(65536)
    return headers, rest

while True:
    s = socket.create_connection((host, int(port)))
    s.sendall(f"GET {{api}}/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())
    headers, body = read_response(s)
    s.close()
    rid = headers["lambda-runtime-aws-request-id"]
    event = json.loads(body)
    size = event["size"] if "size" in event else json.loads(event["body"])["size"]  # Invoke, or a URL's request
    s = socket.create_connection((host, int(port)))
    s.sendall(f"POST {{api}}/invocation/{{rid}}/response HTTP/1.1\\r\\nHost: x\\r\\n"
              "Content-Type: application/octet-stream\\r\\n"
              "Lambda-Runtime-Function-Response-Mode: streaming\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n".encode())
    sent, i = 0, 0
    try:
        while sent < size:
            piece = bytes([i % 251]) * min(PIECE, size - sent)
            s.sendall(b"%x\\r\\n%s\\r\\n" % (len(piece), piece))
            sent += len(piece)
            i += 1
        s.sendall(b"0\\r\\n\\r\\n")
        read_response(s)
    except OSError:
        pass  # the server refused the rest (past the limit)
    s.close()
"""


def _expected(size: int) -> str:
    digest = hashlib.sha256()
    sent, i = 0, 0
    while sent < size:
        n = min(256 * 1024, size - sent)
        digest.update(bytes([i % 251]) * n)
        sent, i = sent + n, i + 1
    return digest.hexdigest()


def _create(lam: Any, fname: str) -> None:
    lam.create_function(FunctionName=fname, Runtime="provided.al2023", Role=ROLE, Handler="x.y", Timeout=60,
                        Code={"ZipFile": make_zip({"bootstrap": BIG_STREAM_BOOTSTRAP.format(python=sys.executable)})})


def test_invoke_with_response_stream_up_to_20_mib(lam: Any, fname: str) -> None:
    _create(lam, fname)
    size = 18 * MIB  # over the 6 MB of a buffered response
    out = lam.invoke_with_response_stream(FunctionName=fname, Payload=json.dumps({"size": size}).encode())
    digest, total, chunks, complete = hashlib.sha256(), 0, 0, None
    for event in out["EventStream"]:
        if "PayloadChunk" in event:
            data = event["PayloadChunk"]["Payload"]
            assert len(data) <= 64 * 1024  # passed on in pieces, never as one big buffer
            digest.update(data)
            total += len(data)
            chunks += 1
        else:
            complete = event["InvokeComplete"]
    assert complete == {}
    assert total == size and digest.hexdigest() == _expected(size)

    # past 20 MiB the stream ends with Function.ResponseSizeTooLarge, after what was sent
    out = lam.invoke_with_response_stream(FunctionName=fname, Payload=json.dumps({"size": 21 * MIB}).encode())
    total, complete = 0, None
    for event in out["EventStream"]:
        if "PayloadChunk" in event:
            total += len(event["PayloadChunk"]["Payload"])
        else:
            complete = event["InvokeComplete"]
    assert complete is not None and complete["ErrorCode"] == "Function.ResponseSizeTooLarge"
    assert "20971520 bytes" in complete["ErrorDetails"]
    assert 19 * MIB < total <= 20 * MIB

    # a plain Invoke buffers the response: 6 MB at most, as for any buffered response
    out = lam.invoke(FunctionName=fname, Payload=json.dumps({"size": 7 * MIB}).encode())
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert body == {"errorType": "Function.ResponseSizeTooLarge",
                    "errorMessage": "Response payload size exceeded maximum allowed payload size (6291456 bytes)."}
    out = lam.invoke(FunctionName=fname, Payload=json.dumps({"size": 5 * MIB}).encode())
    assert "FunctionError" not in out and len(out["Payload"].read()) == 5 * MIB


def test_response_stream_function_url_up_to_20_mib(lam: Any, fname: str, aws_endpoint_url: str) -> None:
    _create(lam, fname)
    url = lam.create_function_url_config(FunctionName=fname, AuthType="NONE", InvokeMode="RESPONSE_STREAM")[
        "FunctionUrl"]
    endpoint = urlsplit(aws_endpoint_url)
    host = f"{urlsplit(url).hostname.split('.', 1)[0]}.lambda-url.us-east-1.localhost:{endpoint.port}"
    size = 19 * MIB
    status, headers, body = url_request(aws_endpoint_url, host, "/", method="POST",
                                        body=json.dumps({"size": size}).encode(),
                                        headers={"Content-Type": "application/json"})
    assert status == 200, body[:200]
    assert headers["content-type"] == "application/octet-stream"
    assert len(body) == size and hashlib.sha256(body).hexdigest() == _expected(size)


def test_chunk_queue_pushes_back_past_its_bound() -> None:
    async def scenario() -> None:
        queue = ChunkQueue(high_water=100)
        assert queue.put(b"a" * 60) is None
        room = queue.put(b"b" * 60)  # 120 held: the producer must wait
        assert room is not None and not room.done()
        assert await queue.get() == b"a" * 60  # 60 held: above half the bound, still waiting
        assert not room.done()
        assert await queue.get() == b"b" * 60
        assert room.done()  # drained: the producer goes on
        assert queue.put(None) is None and await queue.get() is None
        # a reader that goes away lets a waiting producer go on too
        waiting = queue.put(b"c" * 200)
        assert waiting is not None and not waiting.done()
        queue.close()
        assert waiting.done()

    asyncio.run(scenario())
