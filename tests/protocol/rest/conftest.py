"""Shared pieces of the REST protocol tests: model-driven hypothesis strategies and the glue between
botocore's client serializer/parser and our codecs.

Strategies are generated from botocore shapes: min/max lengths and ranges and enums are respected,
timestamps carry milliseconds in bodies and whole seconds where the wire format has no fraction
(headers, query strings), sizes are kept small so every operation can run in the fast suite.
Strings are drawn from alphabets the location can carry: printable ASCII without surrounding
blanks in headers (HTTP strips them), XML-legal characters in XML bodies, anything but surrogates
in URIs, query strings and JSON.
"""

from __future__ import annotations

import asyncio
import io
import re
import string
from datetime import datetime, timezone
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer
from hypothesis import strategies as st

from awsemu.protocol.http import Headers, WireRequest, WireResponse

_EPOCH = datetime(1971, 1, 1)
_END = datetime(2090, 1, 1)

HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8).map(str.strip)
HEADER_KEY = st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=8)
ANY_TEXT = st.characters(exclude_categories=("Cs",))
XML_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Cn", "Co")) | st.sampled_from("\t\n")


class ShapeStrategies:
    """hypothesis strategies for the input or output members of a service's operations."""

    def __init__(self, protocol: str, direction: str) -> None:
        self.protocol = protocol
        self.direction = direction

    def for_operation(self, op: OperationModel) -> st.SearchStrategy[dict[str, Any]]:
        shape = op.input_shape if self.direction == "input" else op.output_shape
        if shape is None:
            return st.just({})
        return self.structure(shape, depth=0, top=True)

    # -- scalars --

    def _text(self, shape: Shape, where: str) -> st.SearchStrategy[str]:
        enum = shape.metadata.get("enum")
        lo = int(shape.metadata.get("min", 0))
        if where in ("uri",):
            lo = max(lo, 1)
        if enum and where != "uri":
            return st.sampled_from(enum)
        hi = max(lo, min(int(shape.metadata.get("max", 8)), 8))
        if where == "hostlabel":
            return st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
        if where == "header":
            generic = HEADER_TEXT.filter(lambda s: len(s) >= lo) if lo else HEADER_TEXT
        elif where == "body" and self.protocol == "rest-xml":
            chars = XML_CHARS if self.direction == "input" else XML_CHARS | st.just("\r")
            generic = st.text(chars, min_size=lo, max_size=hi)
        else:
            generic = st.text(ANY_TEXT, min_size=lo, max_size=hi)
        fitting = self._pattern(shape, where, lo)
        return generic if fitting is None else st.one_of(fitting, generic)

    def _pattern(self, shape: Shape, where: str, lo: int) -> st.SearchStrategy[str] | None:
        """Values that match the shape's pattern (realistic ARNs, names), when Python can read it."""
        pattern = shape.metadata.get("pattern")
        if not pattern:
            return None
        try:
            re.compile(pattern)
        except re.error:  # Java-only syntax such as \p{L}
            return None
        hi = int(shape.metadata.get("max", 64))

        def fits(value: str) -> bool:
            if not lo <= len(value) <= min(hi, 96):
                return False
            if where == "header":
                return value.isascii() and value.isprintable() and value == value.strip()
            if where == "body" and self.protocol == "rest-xml":
                return all(c.isprintable() or c in "\t\n" for c in value)
            return True

        return st.from_regex(pattern, fullmatch=True).filter(fits)

    def _timestamp(self, shape: Shape, where: str) -> st.SearchStrategy[datetime]:
        base = st.datetimes(min_value=_EPOCH, max_value=_END)
        if where == "body" and shape.serialization.get("timestampFormat") != "rfc822":
            base = base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
        else:
            base = base.map(lambda d: d.replace(microsecond=0))
        return base.map(lambda d: d.replace(tzinfo=timezone.utc))

    def shape(self, shape: Shape, where: str, depth: int) -> st.SearchStrategy[Any]:
        t = shape.type_name
        if t == "string":
            if shape.serialization.get("jsonvalue"):
                return st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=4), st.integers(0, 9), max_size=2)
            return self._text(shape, where)
        if t in ("integer", "long"):
            lo = shape.metadata.get("min", -(2**31) if t == "integer" else -(2**53))
            hi = shape.metadata.get("max", 2**31 - 1 if t == "integer" else 2**53)
            return st.integers(int(lo), int(hi))
        if t == "boolean":
            return st.booleans()
        if t in ("float", "double"):
            return st.floats(allow_nan=False, allow_infinity=False)
        if t == "timestamp":
            return self._timestamp(shape, where)
        if t == "blob":
            return st.binary(max_size=12)
        if t == "list":
            lo = int(shape.metadata.get("min", 0))
            item = self.shape(shape.member, where, depth + 1)
            if where == "header" and shape.member.type_name == "string":
                # botocore's parser splits header lists on "," without unquoting: only our
                # parser (input direction) reads quoted items back
                item = item.filter(lambda s: s != "")
                if self.direction == "output":
                    item = item.filter(lambda s: "," not in s and '"' not in s)
            return st.lists(item, min_size=max(lo, 1), max_size=max(lo, 1 if depth > 2 else 3))
        if t == "map":
            if where == "headers":
                return st.dictionaries(HEADER_KEY, HEADER_TEXT, min_size=1, max_size=3)
            return st.dictionaries(
                self.shape(shape.key, where, depth + 1), self.shape(shape.value, where, depth + 1), min_size=1, max_size=2
            )
        if t == "structure":
            return self.structure(shape, depth + 1, top=False)
        if t == "document":
            return st.just({})
        raise TypeError(t)

    def structure(self, shape: Shape, depth: int, top: bool) -> st.SearchStrategy[dict[str, Any]]:
        required: dict[str, st.SearchStrategy[Any]] = {}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for name, member in shape.members.items():
            ser = member.serialization
            if ser.get("eventstream") or member.metadata.get("document"):
                continue
            location = ser.get("location") if top else None
            if location == "statusCode":
                strat: st.SearchStrategy[Any] = st.sampled_from([200, 202])
            elif ser.get("hostLabel"):
                strat = self._text(member, "hostlabel")
            elif top and ser.get("streaming") or (top and name == shape.serialization.get("payload") and member.type_name == "blob"):
                strat = st.binary(max_size=24)
            elif top and name == shape.serialization.get("payload") and member.type_name == "string":
                strat = st.text(ANY_TEXT, max_size=12)
            else:
                where = {"uri": "uri", "querystring": "query", "header": "header", "headers": "headers"}.get(
                    location or "", "body"
                )
                strat = self.shape(member, where, depth)
            if name in shape.required_members or location == "uri":
                required[name] = strat
            elif depth < 4:
                optional[name] = strat
        if shape.is_tagged_union and not top:
            choices = [st.fixed_dictionaries({k: v}) for k, v in {**required, **optional}.items()]
            return st.one_of(choices) if choices else st.just({})
        return st.fixed_dictionaries(required, optional=optional)


@pytest.fixture(scope="session")
def strategies() -> type[ShapeStrategies]:
    return ShapeStrategies


# --- botocore glue ------------------------------------------------------------------------------

_SESSION = botocore.session.get_session()


def client_model(service: str) -> ServiceModel:
    """botocore's own, unpatched model: what a real client speaks."""
    return _SESSION.get_service_model(service)


def botocore_request(service: str, operation: str, params: dict[str, Any], *, stream: bool) -> WireRequest:
    """Serialize with botocore's client serializer and turn its request into a WireRequest."""
    op = client_model(service).operation_model(operation)
    serializer = create_serializer(op.metadata["protocol"], include_validation=False)
    request = serializer.serialize_to_request(params, op)
    prepare_request_dict(request, endpoint_url="http://localhost:4566")
    url = urlsplit(request["url"])
    headers = Headers([("Host", url.netloc)])
    for key, value in request["headers"].items():
        headers.add(key, value.decode("latin-1") if isinstance(value, bytes) else str(value))
    body = request["body"]
    if isinstance(body, str):
        body = body.encode()
    data: bytes = body or b""

    async def read_body() -> bytes:
        return data

    def open_stream() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 5):
                yield data[i : i + 5]

        return chunks()

    return WireRequest(
        method=request["method"],
        raw_path=url.path,
        query_string=url.query,
        headers=headers,
        read_body=read_body,
        stream=open_stream if stream else None,
    )


def botocore_parse(service: str, operation: str, response: WireResponse, *, stream: bool = False) -> dict[str, Any]:
    """Parse our response the way a botocore client does (blob payloads as a StreamingBody)."""
    op = client_model(service).operation_model(operation)
    parser = create_parser(op.metadata["protocol"])
    body: Any = response.body if isinstance(response.body, bytes) else b""
    if stream:
        body = StreamingBody(io.BytesIO(body), len(body))
    wire = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": body,
    }
    return parser.parse(wire, op.output_shape)


def run(coro: Any) -> Any:
    """Run a coroutine that never really suspends (our parse awaits in-memory bodies) cheaply."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    return asyncio.run(coro)


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


def normalize(value: Any) -> Any:
    """Drop None and empty containers (XML cannot tell an empty list from an absent one)."""
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return value



@pytest.fixture(scope="session")
def glue() -> Any:
    """The helpers above, for test modules (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        client_model=client_model,
        botocore_request=botocore_request,
        botocore_parse=botocore_parse,
        run=run,
        collect=collect,
        normalize=normalize,
    )
