"""Shared helpers of the RPC protocol tests: a model-driven hypothesis strategy and botocore glue.

``shapes`` (session fixture) gives :class:`ShapeStrategies`, which turns any botocore shape into a
hypothesis strategy for values of it: required members always, optional ones sometimes, string
lengths / number ranges / enums from the model, small sizes, bounded recursion (DynamoDB's
``AttributeValue`` nests through ``M``/``L``). Values a wire cannot carry are not generated, per
protocol and direction:

- timestamps carry milliseconds (JSON epoch floats and ISO 8601 both do), always in UTC;
- query requests cannot send an empty map or an empty structure (nothing goes on the wire), so
  those are generated non-empty; query responses cannot show an empty *flattened* list or map
  (no element at all), so those are generated non-empty;
- union shapes (and DynamoDB ``AttributeValue``) set exactly one member.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import strategies as st

from awsemu.protocol.http import Headers, WireRequest, WireResponse

MAX_DEPTH = 4
_SINGLE_MEMBER = {"AttributeValue"}

# Any text XML 1.0 and JSON can both carry, plus the characters escaping must get right.
_ALPHABET = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")),
    st.sampled_from("\t\n\r &<>\"'%+=.;#"),
)


def _ms_datetime(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000, tzinfo=timezone.utc)


_TIMESTAMPS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(_ms_datetime)


class ShapeStrategies:
    """Strategies for values of botocore shapes; ``protocol`` is "json" or "query"."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool, str, str, int], st.SearchStrategy[Any]] = {}

    def for_shape(self, shape: Shape, protocol: str, direction: str, depth: int = 0) -> st.SearchStrategy[Any]:
        flattened = bool(shape.serialization.get("flattened"))
        key = (shape.name, flattened, protocol, direction, min(depth, MAX_DEPTH + 1))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._build(shape, protocol, direction, depth)
            if shape.type_name in ("structure", "list", "map"):
                self._cache[key] = cached
        return cached

    def _build(self, shape: Shape, protocol: str, direction: str, depth: int) -> st.SearchStrategy[Any]:
        kind = shape.type_name
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        if kind == "string":
            if shape.enum:
                return st.sampled_from(list(shape.enum))
            min_size = int(lo or 0)
            max_size = min(int(hi), min_size + 8) if hi is not None else min_size + 8
            return st.text(alphabet=_ALPHABET, min_size=min_size, max_size=max_size)
        if kind in ("integer", "long"):
            low = int(lo) if lo is not None else -(2**31)
            high = int(hi) if hi is not None else 2**31 - 1
            return st.integers(min_value=low, max_value=high)
        if kind in ("float", "double"):
            return st.floats(
                min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, width=64
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "blob":
            min_size = int(lo or 0)
            return st.binary(min_size=min_size, max_size=min_size + 12)
        if kind == "timestamp":
            return _TIMESTAMPS
        deep = depth >= MAX_DEPTH
        if kind == "list":
            flattened = bool(shape.serialization.get("flattened"))
            min_size = int(lo or 0)
            if protocol == "query" and direction == "output" and flattened:
                min_size = max(min_size, 1)
            max_size = min_size if deep else min(int(hi), min_size + 3) if hi is not None else min_size + 3
            item = self.for_shape(shape.member, protocol, direction, depth + 1)  # type: ignore[attr-defined]
            return st.lists(item, min_size=min_size, max_size=max_size)
        if kind == "map":
            flattened = bool(shape.serialization.get("flattened"))
            min_size = int(lo or 0)
            if protocol == "query" and (direction == "input" or flattened):
                min_size = max(min_size, 1)
            max_size = min_size if deep else min_size + 3
            keys = self.for_shape(shape.key, protocol, direction, depth + 1)  # type: ignore[attr-defined]
            values = self.for_shape(shape.value, protocol, direction, depth + 1)  # type: ignore[attr-defined]
            return st.dictionaries(keys, values, min_size=min_size, max_size=max_size)
        if kind == "structure":
            return self._structure(shape, protocol, direction, depth)
        raise AssertionError(f"no strategy for {kind}")

    def _structure(self, shape: Shape, protocol: str, direction: str, depth: int) -> st.SearchStrategy[Any]:
        members: dict[str, Shape] = dict(shape.members)  # type: ignore[attr-defined]
        if shape.metadata.get("union") or shape.name in _SINGLE_MEMBER:
            names = list(members)
            if depth >= MAX_DEPTH:
                scalar = [n for n in names if members[n].type_name not in ("structure", "list", "map")]
                names = scalar or names
            return st.one_of(
                [
                    self.for_shape(members[n], protocol, direction, depth + 1).map(lambda v, n=n: {n: v})
                    for n in names
                ]
            )
        required = {n: self.for_shape(members[n], protocol, direction, depth + 1) for n in shape.required_members}
        optional = {}
        if depth < MAX_DEPTH:
            optional = {
                n: self.for_shape(m, protocol, direction, depth + 1)
                for n, m in members.items()
                if n not in required
            }
        strategy = st.fixed_dictionaries(required, optional=optional)
        if protocol == "query" and direction == "input" and members and depth > 0 and not required:
            # An empty structure sends nothing on the query wire: give it at least one member.
            if optional:
                return strategy.filter(bool)
            scalar = [n for n, m in members.items() if m.type_name not in ("structure", "list", "map")]
            first = (scalar or list(members))[0]
            return st.fixed_dictionaries({first: self.for_shape(members[first], protocol, direction, depth + 1)})
        return strategy


@pytest.fixture(scope="session")
def shapes() -> ShapeStrategies:
    return ShapeStrategies()


# ---------------------------------------------------------------------------------------------
# botocore glue


def botocore_request(protocol: str, operation: OperationModel, params: dict[str, Any]) -> WireRequest:
    """Serialize ``params`` the way a botocore client does and hand it over as a WireRequest."""
    request_dict = create_serializer(protocol).serialize_to_request(params, operation)
    prepare_request_dict(request_dict, endpoint_url="https://localhost.localstack.cloud:4566")
    prepared = create_request_object(request_dict).prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    url = urlsplit(prepared.url)
    return wire_request(prepared.method, url.path or "/", url.query, list(prepared.headers.items()), body)


def wire_request(
    method: str, path: str, query: str, headers: list[tuple[str, Any]], body: bytes
) -> WireRequest:
    async def read_body() -> bytes:
        return body

    # botocore keeps some header values as bytes; the gateway hands us str.
    text_headers = [(k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in headers]
    return WireRequest(method, path, query, Headers(text_headers), read_body)


def parse_sync(codec: Any, request: WireRequest) -> Any:
    """Run ``codec.parse`` to completion; with an in-memory body it never has to wait."""
    coroutine = codec.parse(request)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("parse suspended on an in-memory body")


def botocore_parse(protocol: str, response: WireResponse, shape: Shape | None) -> dict[str, Any]:
    """Parse one of our responses with botocore's client parser (as a client would see it)."""
    assert isinstance(response.body, bytes)
    headers = {k.lower(): v for k, v in response.headers}
    parsed = create_parser(protocol).parse(
        {"status_code": response.status, "headers": headers, "body": response.body}, shape
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


class Glue:
    """The botocore glue above, as a fixture (test modules cannot import conftest by name)."""

    request = staticmethod(botocore_request)
    wire_request = staticmethod(wire_request)
    parse = staticmethod(parse_sync)
    client_parse = staticmethod(botocore_parse)


@pytest.fixture(scope="session")
def glue() -> Glue:
    return Glue()
