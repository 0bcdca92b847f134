"""The aws-chunked decoder against botocore's own encoder, split at every possible boundary."""

from __future__ import annotations

import asyncio
import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.protocol.awschunked import (
    AwsChunkedDecoder,
    ChunkEnd,
    ChunkStart,
    Data,
    IncompleteBody,
    MalformedChunkedBody,
    Trailers,
    decode_stream,
    is_aws_chunked,
)


def _botocore_body(payload: bytes, chunk_size: int) -> tuple[bytes, str]:
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=chunk_size
    )
    body = wrapper.read()
    checksum = Crc32Checksum()
    checksum.update(payload)
    return body, checksum.b64digest()


def _decode_all(framed: bytes, cuts: list[int]) -> tuple[bytes, AwsChunkedDecoder, list]:
    decoder = AwsChunkedDecoder()
    events = []
    points = sorted({c % (len(framed) + 1) for c in cuts}) + [len(framed)]
    start = 0
    for point in points:
        events += decoder.feed(framed[start:point])
        start = point
    payload = b"".join(e.data for e in events if isinstance(e, Data))
    return payload, decoder, events


@settings(max_examples=150, deadline=None)
@given(payload=st.binary(max_size=3000), chunk=st.integers(1, 700), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_botocore_framing_round_trips_at_any_split(payload, chunk, cuts):
    framed, crc = _botocore_body(payload, chunk)
    decoded, decoder, events = _decode_all(framed, cuts)
    assert decoded == payload
    assert decoder.finished and decoder.decoded_length == len(payload)
    trailers = [e for e in events if isinstance(e, Trailers)]
    assert trailers == [Trailers({"x-amz-checksum-crc32": crc}, None)]
    starts = [e.size for e in events if isinstance(e, ChunkStart)]
    assert sum(starts) == len(payload) and starts[-1] == 0


def test_signed_chunks_report_their_signatures():
    framed = (
        b"5;chunk-signature=aaa\r\nhello\r\n"
        b"0;chunk-signature=bbb\r\n"
        b"x-amz-checksum-crc32c:abc=\r\n"
        b"x-amz-trailer-signature:ccc\r\n\r\n"
    )
    events = AwsChunkedDecoder().feed(framed)
    assert events == [
        ChunkStart(5, "aaa"), Data(b"hello"), ChunkEnd(5, "aaa"),
        ChunkStart(0, "bbb"), ChunkEnd(0, "bbb"),
        Trailers({"x-amz-checksum-crc32c": "abc="}, "ccc"),
    ]


def test_signed_payload_without_trailer():
    events = AwsChunkedDecoder().feed(b"3;chunk-signature=x\r\nabc\r\n0;chunk-signature=y\r\n\r\n")
    assert events[-1] == Trailers({}, None)


@pytest.mark.parametrize(
    "framed, detail",
    [
        (b"zz\r\nabc\r\n", "not hexadecimal"),
        (b"3\r\nabcd\r\n", "longer than its declared size"),
        (b"3\nabc", "CRLF"),
        (b"3;foo=bar\r\nabc\r\n", "unknown chunk extension"),
        (b"0\r\n\r\nextra", "bytes after the final chunk"),
        (b"0\r\nnocolon\r\n\r\n", "no ':'"),
        (b"f" * 5000, "too long"),
    ],
)
def test_malformed_framing_is_an_error(framed, detail):
    with pytest.raises(MalformedChunkedBody) as info:
        AwsChunkedDecoder().feed(framed)
    assert detail in info.value.message
    assert info.value.status == 400


async def _agen(parts):
    for p in parts:
        yield p


def test_stream_wrapper_exposes_trailers_and_checks_length():
    framed, crc = _botocore_body(b"x" * 1000, 300)

    async def collect(decoded_length):
        body = decode_stream(_agen([framed[:17], framed[17:]]), decoded_length)
        data = b"".join([c async for c in body])
        return data, body.trailers

    data, trailers = asyncio.run(collect("1000"))
    assert data == b"x" * 1000 and trailers == {"x-amz-checksum-crc32": crc}
    with pytest.raises(IncompleteBody):
        asyncio.run(collect("999"))
    with pytest.raises(IncompleteBody):
        asyncio.run(_truncated(framed))


async def _truncated(framed):
    body = decode_stream(_agen([framed[:-5]]), None)
    return [c async for c in body]


def test_detection():
    assert is_aws_chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", None)
    assert is_aws_chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None)
    assert is_aws_chunked(None, "gzip, aws-chunked")
    assert not is_aws_chunked("UNSIGNED-PAYLOAD", "gzip")
    assert not is_aws_chunked(None, None)
