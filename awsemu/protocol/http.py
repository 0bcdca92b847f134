"""The HTTP request and response as the protocol layer sees them: plain data, no ASGI, no starlette.

The gateway builds a :class:`WireRequest` from the ASGI scope. The body is read lazily through
``read_body`` (for everything but streaming blob payloads, which get ``stream`` instead, so an S3
PutObject is never buffered whole).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Union
from urllib.parse import unquote_plus


def form_pairs(text: str) -> list[tuple[str, str]]:
    """``a=1&b=x%20y&c`` -> ``[("a", "1"), ("b", "x y"), ("c", "")]``: parse_qsl's result (blank
    values kept) at a fraction of its cost, since most fields need no unquoting at all."""
    pairs: list[tuple[str, str]] = []
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


class Headers:
    """Case-insensitive, multi-valued header view. Keys are stored lower-case."""

    __slots__ = ("_items", "_map")

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = []
        self._map: dict[str, str] = {}
        for k, v in items or ():
            self.add(k, v)

    @classmethod
    def from_asgi(cls, raw: list[tuple[bytes, bytes]]) -> "Headers":
        """From an ASGI scope's headers, whose names servers already send lower-cased (the per-request
        fast path: no per-header method calls)."""
        headers = cls.__new__(cls)
        items = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        folded: dict[str, str] = {}
        for k, v in items:
            folded[k] = f"{folded[k]},{v}" if k in folded else v
        headers._items = items
        headers._map = folded
        return headers

    def add(self, key: str, value: str) -> None:
        k = key.lower()
        self._items.append((k, value))
        # Repeated headers fold with "," as HTTP says (RFC 9110 5.3).
        self._map[k] = f"{self._map[k]},{value}" if k in self._map else value

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._map.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._map

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def by_name(self) -> Mapping[str, str]:
        """Lower-case name -> value (repeated headers folded), the view itself rather than a copy:
        for code that reads several headers by lower-case name on every request (signature
        checks), where a method call per header is a measurable share of the request."""
        return self._map

    def keys(self) -> list[str]:
        return list(self._map)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


BodyReader = Callable[[], Awaitable[bytes]]


async def _empty_body() -> bytes:
    return b""


@dataclass
class WireRequest:
    method: str
    # The path exactly as sent, still percent-encoded (S3 keys may contain '%2F', '//', trailing '/').
    raw_path: str
    # The query string as sent, without '?'.
    query_string: str = ""
    headers: Headers = field(default_factory=Headers)
    read_body: BodyReader = _empty_body
    # Streaming payloads: an async iterable of bytes (aws-chunked framing already decoded; the
    # decoded body then carries `.trailers`, the trailing checksums).
    stream: Callable[[], AsyncIterable[bytes]] | None = None
    # Set by the gateway for virtual-hosted S3 requests: the bucket taken from the Host header.
    host_bucket: str | None = None
    _body: bytes | None = None
    _query: list[tuple[str, str]] | None = None

    async def body(self) -> bytes:
        if self._body is None:
            self._body = await self.read_body()
        return self._body

    def query(self) -> list[tuple[str, str]]:
        """Query parameters in order, blank values kept (``?uploads`` -> ``("uploads", "")``)."""
        if self._query is None:
            self._query = form_pairs(self.query_string) if self.query_string else []
        return self._query


ResponseBody = Union[bytes, AsyncIterator[bytes]]


@dataclass
class WireResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: ResponseBody = b""

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None
