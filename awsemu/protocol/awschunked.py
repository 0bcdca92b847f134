"""``aws-chunked`` request bodies, decoded while they stream (sans-IO, in the manner of h11).

SDKs upload S3 bodies in this framing whenever they add a trailing checksum
(``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, boto3's default since 1.36) or sign every chunk
(``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``)::

    <hex size>[;chunk-signature=<sig>]\\r\\n <size bytes>\\r\\n   ... repeated ...
    0[;chunk-signature=<sig>]\\r\\n [<trailer name>:<value>\\r\\n]* [x-amz-trailer-signature:<sig>\\r\\n] \\r\\n

:class:`AwsChunkedDecoder` is a pure state machine: ``feed(bytes)`` returns events (chunk starts
with their signatures, payload pieces, the end of each chunk, the trailers). It holds at most one
header line, never a chunk, so memory stays bounded whatever the body size. :func:`decode_stream`
wraps an async byte stream into the decoded payload stream the providers read; the trailers it
collected (``x-amz-checksum-crc32`` ...) are on ``.trailers`` once the stream is exhausted. The
chunk-signature chain is checked by the auth layer, which observes the same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Union

from awsemu.services.base import ServiceError

MAX_LINE = 4096


class IncompleteBody(ServiceError):
    code = "IncompleteBody"
    status = 400


class MalformedChunkedBody(ServiceError):
    code = "InvalidRequest"
    status = 400


@dataclass(frozen=True)
class ChunkStart:
    size: int
    signature: str | None


@dataclass(frozen=True)
class Data:
    data: bytes


@dataclass(frozen=True)
class ChunkEnd:
    size: int
    signature: str | None


@dataclass(frozen=True)
class Trailers:
    values: dict[str, str]
    signature: str | None


Event = Union[ChunkStart, Data, ChunkEnd, Trailers]

_HEADER, _DATA, _DATA_CRLF, _TRAILER, _DONE = range(5)


def _malformed(detail: str) -> MalformedChunkedBody:
    return MalformedChunkedBody(f"The aws-chunked request body is malformed: {detail}.")


@dataclass
class AwsChunkedDecoder:
    """Feed raw body bytes; get events. ``finished`` once the final chunk and trailers are read."""

    _state: int = _HEADER
    _buffer: bytearray = field(default_factory=bytearray)
    _remaining: int = 0
    _size: int = 0
    _signature: str | None = None
    _trailers: dict[str, str] = field(default_factory=dict)
    _trailer_signature: str | None = None
    decoded_length: int = 0

    @property
    def finished(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._remaining, end - pos)
                # a piece that is payload only (most of a large upload) passes as it is: no copy
                events.append(Data(data if take == end and type(data) is bytes else bytes(view[pos:pos + take])))
                pos += take
                self._remaining -= take
                self.decoded_length += take
                if self._remaining == 0:
                    self._state = _DATA_CRLF
                continue
            if state == _DONE:
                raise _malformed("bytes after the final chunk")
            # Line-oriented states: collect up to CRLF.
            nl = data.find(b"\n", pos)
            if nl < 0:
                self._buffer += view[pos:]
                if len(self._buffer) > MAX_LINE:
                    raise _malformed("a chunk header line is too long")
                return events
            self._buffer += view[pos:nl + 1]
            pos = nl + 1
            line = bytes(self._buffer)
            self._buffer.clear()
            if not line.endswith(b"\r\n"):
                raise _malformed("a line does not end with CRLF")
            self._line(line[:-2], events)
        return events

    def _line(self, line: bytes, events: list[Event]) -> None:
        state = self._state
        if state == _DATA_CRLF:
            if line:
                raise _malformed("chunk data is longer than its declared size")
            events.append(ChunkEnd(self._size, self._signature))
            self._state = _HEADER
            return
        if state == _HEADER:
            size_part, _, ext = line.partition(b";")
            try:
                size = int(size_part.strip(), 16)
            except ValueError:
                raise _malformed("a chunk size is not hexadecimal") from None
            if size < 0:
                raise _malformed("a chunk size is negative")
            signature = None
            if ext:
                key, _, value = ext.partition(b"=")
                if key.strip() != b"chunk-signature":
                    raise _malformed("unknown chunk extension")
                signature = value.strip().decode("ascii", "replace")
            self._size, self._signature = size, signature
            events.append(ChunkStart(size, signature))
            if size == 0:
                events.append(ChunkEnd(0, signature))
                self._state = _TRAILER
            else:
                self._remaining = size
                self._state = _DATA
            return
        if state == _TRAILER:
            if not line:
                events.append(Trailers(dict(self._trailers), self._trailer_signature))
                self._state = _DONE
                return
            name, sep, value = line.partition(b":")
            if not sep:
                raise _malformed("a trailer line has no ':'")
            key = name.strip().decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            if key == "x-amz-trailer-signature":
                self._trailer_signature = text
            else:
                self._trailers[key] = text


Observer = Callable[[Event], None]


class DecodedBody:
    """The payload of an aws-chunked stream, as an async iterator of bytes; ``trailers`` after it."""

    def __init__(self, source: AsyncIterator[bytes], decoded_length: int | None,
                 observer: Observer | None = None) -> None:
        self._source = source
        self._expected = decoded_length
        self.observer = observer
        self.decoder = AwsChunkedDecoder()
        self.trailers: dict[str, str] = {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._run()

    async def _run(self) -> AsyncIterator[bytes]:
        decoder, observer = self.decoder, self.observer
        async for raw in self._source:
            pieces: list[bytes] = []
            for event in decoder.feed(raw):
                if observer is not None:
                    observer(event)
                if type(event) is Data:
                    pieces.append(event.data)
                elif type(event) is Trailers:
                    self.trailers = event.values
            if pieces:
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if not decoder.finished:
            raise IncompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header")
        if self._expected is not None and decoder.decoded_length != self._expected:
            raise IncompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header")


def is_aws_chunked(content_sha256: str | None, content_encoding: str | None) -> bool:
    """True when the body is aws-chunked framed (declared by either header, as SDKs do)."""
    if content_sha256 and content_sha256.startswith("STREAMING-"):
        return True
    return bool(content_encoding) and "aws-chunked" in [p.strip() for p in content_encoding.split(",")]


def decode_stream(source: AsyncIterator[bytes], decoded_content_length: str | None,
                  observer: Observer | None = None) -> DecodedBody:
    expected = None
    if decoded_content_length is not None:
        try:
            expected = int(decoded_content_length)
        except ValueError:
            raise MalformedChunkedBody("x-amz-decoded-content-length is not a number.") from None
    return DecodedBody(source, expected, observer)
