"""Chunk-signature chains: the S3 API Reference example "Signature Calculations for the Authorization
Header: Transferring Payload in Multiple Chunks (Chunked Upload)" — a 66560-byte object of 'a' sent
as chunks of 65536, 1024 and 0 bytes — plus tampering and a trailer round trip."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from awsemu.auth.chunked import AwsChunkedVerifier, ChunkSignatureChain, ChunkSignatureError, verified_stream
from awsemu.auth.credentials import CredentialStore, root_record
from awsemu.auth.sigv4 import SignatureVerifier, parse_amz_date, signing_key, sign
from awsemu.protocol.http import Headers

KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SCOPE = "20130524/us-east-1/s3/aws4_request"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGS = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
              "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
              "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]


def documented_body(sigs=CHUNK_SIGS, sizes=(65536, 1024)) -> bytes:
    out = b""
    for size, sig in zip(sizes, sigs):
        out += f"{size:x};chunk-signature={sig}\r\n".encode() + b"a" * size + b"\r\n"
    return out + f"0;chunk-signature={sigs[-1]}\r\n\r\n".encode()


def chain() -> ChunkSignatureChain:
    return ChunkSignatureChain(signing_key(SECRET, "20130524", "us-east-1", "s3"), "20130524T000000Z", SCOPE, SEED)


def test_documented_seed_signature_verifies():
    headers = Headers([
        ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
        ("Authorization", f"AWS4-HMAC-SHA256 Credential={KEY}/{SCOPE},SignedHeaders=content-encoding;content-length;"
                          f"host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
                          f"Signature={SEED}")])
    v = SignatureVerifier(CredentialStore({KEY: root_record(KEY, SECRET, "111122223333")})).verify(
        method="PUT", raw_path="/examplebucket/chunkObject.txt", query_string="", headers=headers, body=None,
        service="s3", now=parse_amz_date("20130524T000000Z"))
    assert v.signature == SEED and v.payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    assert len(documented_body()) == 66824


@pytest.mark.parametrize("piece", [1, 7, 4096, 100000])
def test_documented_chunks_verify_whatever_the_read_size(piece):
    body = documented_body()
    verifier = AwsChunkedVerifier(chain())
    out = b"".join(verifier.feed(body[i:i + piece]) for i in range(0, len(body), piece))
    verifier.finish()
    assert out == body


@pytest.mark.parametrize("how", ["data", "signature", "reorder", "truncate"])
def test_tampered_chunks_rejected(how):
    body = documented_body()
    if how == "data":
        body = body.replace(b"a\r\n400;", b"b\r\n400;")
    elif how == "signature":
        body = body.replace(CHUNK_SIGS[1].encode(), CHUNK_SIGS[0].encode(), 1)
    elif how == "reorder":
        body = documented_body(sigs=[CHUNK_SIGS[0], CHUNK_SIGS[1], CHUNK_SIGS[2]], sizes=(1024, 65536))
    verifier = AwsChunkedVerifier(chain())
    with pytest.raises(ChunkSignatureError):
        if how == "truncate":
            released = verifier.feed(body[:-40])
            assert len(released) < len(body)
            verifier.finish()
        else:
            verifier.feed(body)
            verifier.finish()


def test_unverified_bytes_are_never_released():
    body = documented_body().replace(b"a\r\n400;", b"b\r\n400;")
    verifier = AwsChunkedVerifier(chain())
    assert verifier.feed(body[:65000]) == b""  # the first chunk is not complete yet: nothing released
    with pytest.raises(ChunkSignatureError):
        verifier.feed(body[65000:])


def test_signed_trailer_round_trip_and_stream_wrapper():
    key = signing_key(SECRET, "20130524", "us-east-1", "s3")
    signer = ChunkSignatureChain(key, "20130524T000000Z", SCOPE, SEED)
    data = b"hello world"
    s1 = signer.expected_chunk(data); signer.previous = s1
    s0 = signer.expected_chunk(b""); signer.previous = s0
    trailer = [("x-amz-checksum-crc32", "DUoRhQ==")]
    ts = signer.expected_trailer(trailer)
    body = (f"b;chunk-signature={s1}\r\n".encode() + data + b"\r\n" + f"0;chunk-signature={s0}\r\n".encode()
            + b"x-amz-checksum-crc32:DUoRhQ==\r\n" + f"x-amz-trailer-signature:{ts}\r\n\r\n".encode())

    async def run(raw: bytes) -> bytes:
        async def source():
            for i in range(0, len(raw), 5):
                yield raw[i:i + 5]
        return b"".join([p async for p in verified_stream(source(), AwsChunkedVerifier(chain(), trailer=True))])

    assert asyncio.run(run(body)) == body
    with pytest.raises(ChunkSignatureError):
        asyncio.run(run(body.replace(b"DUoRhQ==", b"DUoRhR==")))
    assert sign(key, "x") != sign(key, "y")
    assert hashlib.sha256(b"").hexdigest() in "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
