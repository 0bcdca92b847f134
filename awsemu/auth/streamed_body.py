"""Signature and payload-hash checks of a streamed request body, applied as the body is read.

The auth step cannot read a streamed body (an S3 upload) before the provider runs: memory must
stay bounded. So it wraps the provider's body stream instead: a ``STREAMING-AWS4-HMAC-SHA256-*``
body has each chunk's signature checked as it passes (on the gateway's aws-chunked decoder's
events when it has one, else by decoding the framing here), and a body signed with a hex
``x-amz-content-sha256`` is hashed as it passes, its last piece held back until the hash is known,
so a body that does not match never reaches the provider whole. Failures raise the service's own
auth error (``errors.auth_error``).
"""

from __future__ import annotations

import hashlib
from typing import Any, AsyncIterator, Callable

from awsemu.auth import errors as E
from awsemu.auth.chunked import AwsChunkedVerifier, ChunkEventVerifier, ChunkSignatureChain, ChunkSignatureError
from awsemu.auth.sigv4 import STREAMING_MARKERS, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, UNSIGNED_PAYLOAD

# Parameter types that are never a streamed body (most parameters): no attribute probing for them.
_PLAIN_TYPES = (str, bytes, int, float, bool, dict, list, type(None))


def streaming_member(params: dict[str, Any]) -> str | None:
    """The name of the parameter that holds a streamed body (an async iterable), if any."""
    for name, value in params.items():
        if isinstance(value, _PLAIN_TYPES):
            continue
        if hasattr(value, "__anext__") or hasattr(value, "__aiter__"):
            return name
    return None


def check_streamed_body(params: dict[str, Any], member: str, verified: Any, family: str) -> None:
    """Make ``params[member]`` check itself against the verified signature as it is read."""
    source: AsyncIterator[bytes] = params[member]
    payload = verified.payload_hash
    if payload in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
        chain = ChunkSignatureChain(verified.signing_key, verified.amz_date, verified.scope, verified.signature)
        trailer = payload == STREAMING_SIGNED_TRAILER
        if hasattr(source, "observer"):
            # The gateway already decodes aws-chunked (protocol/awschunked.DecodedBody): observe its
            # events rather than parse the framing twice. Errors surface as the service's error.
            source.observer = _raising_as(family, ChunkEventVerifier(chain, trailer))
        else:
            params[member] = _chunk_checked(source, AwsChunkedVerifier(chain, trailer=trailer), family)
    elif payload and payload != UNSIGNED_PAYLOAD and payload not in STREAMING_MARKERS:
        params[member] = _hash_checked(source, payload, family)


def _raising_as(family: str, observer: ChunkEventVerifier) -> Callable[[Any], None]:
    def observe(event: Any) -> None:
        try:
            observer(event)
        except ChunkSignatureError:
            raise E.auth_error(family, E.BAD_SIGNATURE) from None

    return observe


async def _chunk_checked(source: AsyncIterator[bytes], verifier: AwsChunkedVerifier, family: str) -> AsyncIterator[bytes]:
    try:
        async for piece in source:
            out = verifier.feed(piece)
            if out:
                yield out
        verifier.finish()
    except ChunkSignatureError:
        raise E.auth_error(family, E.BAD_SIGNATURE) from None


async def _hash_checked(source: AsyncIterator[bytes], expected: str, family: str) -> AsyncIterator[bytes]:
    """Pass the body through, holding back the last piece until the whole body's hash is known."""
    digest = hashlib.sha256()
    held: bytes | None = None
    async for piece in source:
        digest.update(piece)
        if held is not None:
            yield held
        held = piece
    if digest.hexdigest() != expected:
        raise E.auth_error(family, E.CONTENT_SHA_MISMATCH, fields={
            "ClientComputedContentSHA256": expected, "S3ComputedContentSHA256": digest.hexdigest()})
    if held is not None:
        yield held
