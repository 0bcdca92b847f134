"""Per-chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`` uploads.

S3 "Signature calculations for the Authorization header: Transferring payload in multiple chunks"
(chunked upload, AWS4-HMAC-SHA256-PAYLOAD): the body is ``aws-chunked``::

    <hex size>;chunk-signature=<sig>\\r\\n <data> \\r\\n   ...   0;chunk-signature=<sig>\\r\\n
    [<trailer name>:<value>\\r\\n ... x-amz-trailer-signature:<sig>\\r\\n] \\r\\n

and each chunk's signature chains on the previous one, starting from the seed (the signature of
the request headers)::

    AWS4-HMAC-SHA256-PAYLOAD \\n date \\n scope \\n previous signature \\n sha256("") \\n sha256(data)

The trailer (``...-TRAILER``) is signed the same way with ``AWS4-HMAC-SHA256-TRAILER`` over the
hash of the trailing header lines, each written ``name:value\\n``.

:class:`ChunkSignatureChain` is the pure chain; :class:`AwsChunkedVerifier` is a sans-IO framing
reader fed raw bytes that hands back the raw bytes of every chunk *after* its signature checked
out, so a wrapper can pass a body through to the S3 provider (which decodes ``aws-chunked``
itself) while nothing unverified reaches it. A bad chunk raises :class:`ChunkSignatureError`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import AsyncIterator

from awsemu.auth.sigv4 import EMPTY_SHA256, sign

_MAX_HEADER_LINE = 4096


class ChunkSignatureError(Exception):
    """A chunk whose signature does not chain, or a malformed chunk frame."""


class ChunkSignatureChain:
    def __init__(self, signing_key: bytes, amz_date: str, scope: str, seed_signature: str) -> None:
        self.key = signing_key
        self.prefix_tail = f"\n{amz_date}\n{scope}\n"
        self.previous = seed_signature

    def expected_chunk(self, data: bytes) -> str:
        text = (
            f"AWS4-HMAC-SHA256-PAYLOAD{self.prefix_tail}{self.previous}\n{EMPTY_SHA256}\n"
            f"{hashlib.sha256(data).hexdigest()}"
        )
        return sign(self.key, text)

    def verify_chunk(self, data: bytes, signature: str) -> None:
        self.verify_chunk_digest(hashlib.sha256(data).hexdigest(), signature)

    def verify_chunk_digest(self, data_sha256: str, signature: str) -> None:
        text = f"AWS4-HMAC-SHA256-PAYLOAD{self.prefix_tail}{self.previous}\n{EMPTY_SHA256}\n{data_sha256}"
        expected = sign(self.key, text)
        if not hmac.compare_digest(expected, signature):
            raise ChunkSignatureError("chunk signature mismatch")
        self.previous = expected

    def expected_trailer(self, trailer_lines: list[tuple[str, str]]) -> str:
        canonical = "".join(f"{name}:{value}\n" for name, value in trailer_lines)
        text = f"AWS4-HMAC-SHA256-TRAILER{self.prefix_tail}{self.previous}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        return sign(self.key, text)

    def verify_trailer(self, trailer_lines: list[tuple[str, str]], signature: str) -> None:
        expected = self.expected_trailer(trailer_lines)
        if not hmac.compare_digest(expected, signature):
            raise ChunkSignatureError("trailer signature mismatch")
        self.previous = expected


class AwsChunkedVerifier:
    """Sans-IO: ``feed(raw)`` returns the raw bytes of the chunks verified so far; ``finish()``
    checks the body ended with the final chunk (and a signed trailer when one is expected)."""

    def __init__(self, chain: ChunkSignatureChain, trailer: bool = False) -> None:
        self.chain = chain
        self.trailer = trailer
        self._buf = bytearray()
        self._pos = 0  # start of the frame being read in _buf
        self._done = False

    def feed(self, data: bytes) -> bytes:
        if self._done:
            if data:
                raise ChunkSignatureError("data after the final chunk")
            return b""
        self._buf += data
        out_end = 0
        while not self._done:
            consumed = self._read_frame(self._pos)
            if consumed is None:
                break
            self._pos = consumed
            out_end = consumed
        if out_end:
            released = bytes(self._buf[:out_end])
            del self._buf[:out_end]
            self._pos -= out_end
            return released
        return b""

    def finish(self) -> None:
        if not self._done:
            raise ChunkSignatureError("the body ended before the final chunk")

    def _line(self, start: int) -> tuple[bytes, int] | None:
        end = self._buf.find(b"\r\n", start)
        if end < 0:
            if len(self._buf) - start > _MAX_HEADER_LINE:
                raise ChunkSignatureError("chunk header line too long")
            return None
        return bytes(self._buf[start:end]), end + 2

    def _read_frame(self, start: int) -> int | None:
        got = self._line(start)
        if got is None:
            return None
        header, data_start = got
        size_text, _, ext = header.partition(b";")
        name, _, signature = ext.partition(b"=")
        if name.strip() != b"chunk-signature":
            raise ChunkSignatureError("chunk without a chunk-signature")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ChunkSignatureError("bad chunk size") from None
        if size == 0:
            return self._read_final(data_start, signature.decode("latin-1"))
        if len(self._buf) < data_start + size + 2:
            return None
        data = bytes(self._buf[data_start:data_start + size])
        if self._buf[data_start + size:data_start + size + 2] != b"\r\n":
            raise ChunkSignatureError("chunk data not followed by CRLF")
        self.chain.verify_chunk(data, signature.decode("latin-1"))
        return data_start + size + 2

    def _read_final(self, pos: int, signature: str) -> int | None:
        lines: list[tuple[str, str]] = []
        trailer_signature = None
        while True:
            got = self._line(pos)
            if got is None:
                return None
            line, pos = got
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "x-amz-trailer-signature":
                trailer_signature = value.strip()
            else:
                lines.append((name.strip().lower(), value.strip()))
        self.chain.verify_chunk(b"", signature)
        if self.trailer:
            if trailer_signature is None:
                raise ChunkSignatureError("missing x-amz-trailer-signature")
            self.chain.verify_trailer(lines, trailer_signature)
        self._done = True
        return pos


class ChunkEventVerifier:
    """An observer for :class:`awsemu.protocol.awschunked.DecodedBody`: the gateway's decoder
    reports every chunk start, data piece, chunk end and the trailers; this checks the chain as
    they pass (hashing data incrementally, so nothing is buffered). A mismatch raises from inside
    the body stream, before the provider has read the end of the body, so nothing is committed."""

    def __init__(self, chain: ChunkSignatureChain, trailer: bool = False) -> None:
        self.chain = chain
        self.trailer = trailer
        self._hash = hashlib.sha256()
        self.finished = False

    def __call__(self, event: object) -> None:
        kind = type(event).__name__
        if kind == "ChunkStart":
            self._hash = hashlib.sha256()
        elif kind == "Data":
            self._hash.update(event.data)  # type: ignore[attr-defined]
        elif kind == "ChunkEnd":
            self.chain.verify_chunk_digest(self._hash.hexdigest(), event.signature or "")  # type: ignore[attr-defined]
        elif kind == "Trailers":
            if self.trailer:
                values = list(event.values.items())  # type: ignore[attr-defined]
                self.chain.verify_trailer(values, event.signature or "")  # type: ignore[attr-defined]
            self.finished = True


async def verified_stream(source: AsyncIterator[bytes], verifier: AwsChunkedVerifier) -> AsyncIterator[bytes]:
    """Pass an aws-chunked body through, releasing each chunk only once its signature checked out."""
    async for piece in source:
        out = verifier.feed(piece)
        if out:
            yield out
    verifier.finish()
