"""InvokeWithResponseStream through boto3, and the event-stream framing checked by botocore's decoder."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any, Callable

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.services.lambda_ import event_stream
from lambda_helpers import ROLE, error_of, make_zip


def _decode(raw: bytes) -> list[Any]:
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    return list(buffer)


@settings(max_examples=60, deadline=None)
@given(
    headers=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=200), max_size=4),
    payload=st.binary(max_size=3000),
)
def test_framing_decodes_with_botocore(headers: dict[str, str], payload: bytes) -> None:
    raw = event_stream.message(list(headers.items()), payload)
    # two messages back to back, fed byte-split as a socket would
    buffer = EventStreamBuffer()
    data = raw + raw
    buffer.add_data(data[:7])
    buffer.add_data(data[7:])
    messages = list(buffer)  # botocore raises on a bad prelude or message CRC
    assert len(messages) == 2
    for message in messages:
        assert message.payload == payload
        assert message.headers == headers


def test_event_and_exception_headers() -> None:
    (chunk,) = _decode(event_stream.event("PayloadChunk", b"\x00abc"))
    assert chunk.headers == {":event-type": "PayloadChunk", ":content-type": "application/octet-stream",
                             ":message-type": "event"}
    assert chunk.payload == b"\x00abc"
    (complete,) = _decode(event_stream.json_event("InvokeComplete", {"ErrorCode": "X", "LogResult": None}))
    assert json.loads(complete.payload) == {"ErrorCode": "X"}
    (error,) = _decode(event_stream.exception("ServiceException", "boom"))
    assert error.headers[":message-type"] == "exception"
    assert error.headers[":exception-type"] == "ServiceException"
    with pytest.raises(ValueError):
        event_stream.message([("x", "y" * 70000)], b"")


def _stream(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    out = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    return out, list(out["EventStream"])


def _payload(events: list[dict[str, Any]]) -> bytes:
    assert "InvokeComplete" in events[-1], events
    assert all("PayloadChunk" in e for e in events[:-1]), events
    return b"".join(e["PayloadChunk"]["Payload"] for e in events[:-1])


def test_python_function_streams_its_result(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        def handler(event, context):
            print("streaming for", event["who"])
            if event.get("big"):
                return "x" * 150000
            if event.get("fail"):
                raise ValueError("no stream today")
            return {"hello": event["who"]}
    """)
    out, events = _stream(lam, fname, {"who": "ana"})
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    # the member is bound to the Content-Type header: AWS reports the framing's type in it
    assert out["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    assert json.loads(_payload(events)) == {"hello": "ana"}
    assert events[-1]["InvokeComplete"] == {}

    out, events = _stream(lam, fname, {"who": "bo"}, LogType="Tail")
    log = base64.b64decode(events[-1]["InvokeComplete"]["LogResult"]).decode()
    assert "streaming for bo" in log and "REPORT RequestId:" in log

    # a big result comes in several chunks that add up to the JSON string
    _, events = _stream(lam, fname, {"who": "cy", "big": True})
    assert len(events) >= 4
    assert json.loads(_payload(events)) == "x" * 150000

    _, events = _stream(lam, fname, {"who": "di", "fail": True})
    assert len(events) == 1
    complete = events[0]["InvokeComplete"]
    assert complete["ErrorCode"] == "ValueError"
    assert complete["ErrorDetails"] == "no stream today"


def test_input_checks_and_dry_run(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("def handler(event, context):\n    return 1\n")
    out = lam.invoke_with_response_stream(FunctionName=fname, InvocationType="DryRun")
    assert out["StatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        lam.invoke_with_response_stream(FunctionName=fname, Payload=b"{not json")
    assert error_of(excinfo)[0] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as excinfo:
        lam.invoke_with_response_stream(FunctionName=fname + "-missing", Payload=b"{}")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


# A custom runtime that answers in streaming mode: chunked body, and an error in the trailers when
# the event asks for one (after the chunks it already sent), as AWS's streaming runtimes do.
STREAMING_BOOTSTRAP = """\
#!{python}
import base64, json, os, socket
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = "/2018-06-01/runtime"

def call(head, body=b""):
    s = socket.create_connection((host, int(port)))
    s.sendall(head.encode() + body)
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data += s.recv(65536)
    top, rest = data.split(b"\\r\\n\\r\\n", 1)
    lines = top.decode().split("\\r\\n")
    headers = {{k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}}
    size = int(headers.get("content-length", "0"))
    while len(rest) < size:
        rest += s.recv(65536)
    s.close()
    return headers, rest

while True:
    headers, body = call(f"GET {{api}}/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    rid = headers["lambda-runtime-aws-request-id"]
    event = json.loads(body)
    chunks = b"".join(b"%x\\r\\n%s\\r\\n" % (len(p), p) for p in (p.encode() for p in event["parts"]))
    trailers = ""
    if event.get("fail"):
        doc = base64.b64encode(json.dumps({{"errorType": "Stream.Broke", "errorMessage": "mid-stream"}}).encode())
        trailers = f"Lambda-Runtime-Function-Error-Type: Stream.Broke\\r\\nLambda-Runtime-Function-Error-Body: {{doc.decode()}}\\r\\n"
    call(f"POST {{api}}/invocation/{{rid}}/response HTTP/1.1\\r\\nHost: x\\r\\n"
         "Lambda-Runtime-Function-Response-Mode: streaming\\r\\nTransfer-Encoding: chunked\\r\\n"
         "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\\r\\n\\r\\n",
         chunks + b"0\\r\\n" + trailers.encode() + b"\\r\\n")
"""


def test_streaming_runtime_chunks_and_mid_stream_error(lam: Any, fname: str) -> None:
    bootstrap = STREAMING_BOOTSTRAP.format(python=sys.executable)
    lam.create_function(FunctionName=fname, Runtime="provided.al2023", Role=ROLE, Handler="x.y",
                        Code={"ZipFile": make_zip({"bootstrap": bootstrap})}, Timeout=30)
    _, events = _stream(lam, fname, {"parts": ["alpha ", "beta ", "gamma"]})
    assert [e["PayloadChunk"]["Payload"] for e in events[:-1]] == [b"alpha ", b"beta ", b"gamma"]
    assert events[-1]["InvokeComplete"] == {}

    _, events = _stream(lam, fname, {"parts": ["partial"], "fail": True})
    assert [e["PayloadChunk"]["Payload"] for e in events[:-1]] == [b"partial"]
    assert events[-1]["InvokeComplete"] == {"ErrorCode": "Stream.Broke", "ErrorDetails": "mid-stream"}

    # the plain Invoke of the same function: the body whole, the trailer error as FunctionError
    out = lam.invoke(FunctionName=fname, Payload=json.dumps({"parts": ["a", "b"]}).encode())
    assert out["Payload"].read() == b"ab" and "FunctionError" not in out
    out = lam.invoke(FunctionName=fname, Payload=json.dumps({"parts": ["a"], "fail": True}).encode())
    assert out["FunctionError"] == "Unhandled"
    assert json.loads(out["Payload"].read())["errorType"] == "Stream.Broke"
