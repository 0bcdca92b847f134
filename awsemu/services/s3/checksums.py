"""Integrity checks of uploaded bodies: Content-MD5 and the flexible checksums.

The blob store computes digests while the body streams in (MD5 always, plus the algorithms asked
for here); this module decides which to ask for and checks the results against what the client
sent, in headers (``x-amz-checksum-crc32`` ...) or in aws-chunked trailers (``.trailers`` of
the decoded body, present once the stream is exhausted).

Rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html):
- an object uploaded without any checksum gets a server-side CRC64NVME (FULL_OBJECT);
- a checksum value that is not base64 of the right length is ``InvalidRequest``; a value that
  does not match the body is ``BadDigest`` naming the algorithm;
- multipart: COMPOSITE is the checksum of the concatenated part checksums, suffixed ``-N``;
  FULL_OBJECT (CRC algorithms only) is the CRC of the whole body, combined from the parts' CRCs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Iterable, Mapping

from awscrt import checksums as crt

from awsemu.services.s3.errors import BadDigest, InvalidDigest, InvalidRequest, invalid_argument

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
DEFAULT_ALGORITHM = "CRC64NVME"
# member name in the botocore model for each algorithm's value
MEMBERS = {alg: "Checksum" + alg for alg in ALGORITHMS}
_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
_CRC_COMBINE = {"CRC32": crt.combine_crc32, "CRC32C": crt.combine_crc32c, "CRC64NVME": crt.combine_crc64nvme}
_HASHES = {"SHA1": "sha1", "SHA256": "sha256"}


def header_checksums(params: Mapping[str, Any]) -> dict[str, str]:
    """Checksum values sent as headers (``ChecksumCRC32`` ... members), validated in form."""
    found: dict[str, str] = {}
    for alg, member in MEMBERS.items():
        value = params.get(member)
        if value is not None:
            check_form(alg, value)
            found[alg] = value
    return found


def trailer_checksums(body: Any) -> dict[str, str]:
    """Checksum values from aws-chunked trailers (``x-amz-checksum-<alg>``), validated in form."""
    trailers = getattr(body, "trailers", None) or {}
    found: dict[str, str] = {}
    for name, value in trailers.items():
        low = name.lower()
        if low.startswith("x-amz-checksum-"):
            alg = low[len("x-amz-checksum-") :].upper()
            if alg in _SIZES:
                check_form(alg, value, trailer=True)
                found[alg] = value
    return found


def check_form(alg: str, value: str, *, trailer: bool = False) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _SIZES[alg]:
        where = "trailer" if trailer else "header"
        raise InvalidRequest(f"Value for x-amz-checksum-{alg.lower()} {where} is invalid.")


def normalize_algorithm(name: str | None) -> str | None:
    if name is None:
        return None
    alg = name.upper().replace("-", "")
    if alg not in _SIZES:
        raise invalid_argument(
            "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
            "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
            "x-amz-checksum-algorithm",
            name,
        )
    return alg


def algorithms_to_compute(declared: str | None, sent: Iterable[str], body: Any = None) -> list[str]:
    """What the blob store must digest: the declared and sent algorithms, else the default.

    An aws-chunked body whose trailer algorithm was not declared (``x-amz-sdk-checksum-algorithm``;
    SDKs always declare it) could carry any of them: all are computed then.
    """
    algs = [a for a in ([declared] if declared else []) + list(sent) if a]
    if not algs:
        algs = list(ALGORITHMS) if hasattr(body, "trailers") else [DEFAULT_ALGORITHM]
    return list(dict.fromkeys(algs))


def verify(expected: Mapping[str, str], computed: Mapping[str, str]) -> None:
    for alg, value in expected.items():
        if computed.get(alg) != value:
            raise BadDigest(f"The {alg} you specified did not match the calculated checksum.")


def content_md5(value: str | None) -> str | None:
    """The hex MD5 a ``Content-MD5`` header asks for (None when absent); InvalidDigest if ill-formed."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise InvalidDigest(fields={"Content-MD5": value})
    return raw.hex()


def verify_md5(expected_hex: str | None, computed_hex: str | None, sent: str | None) -> None:
    if expected_hex is not None and expected_hex != computed_hex:
        raise BadDigest(fields={"ExpectedDigest": sent or "", "CalculatedDigest": _b64_of_hex(computed_hex)})


def _b64_of_hex(value: str | None) -> str:
    return base64.b64encode(bytes.fromhex(value)).decode() if value else ""


def multipart_etag(part_etags: Iterable[str]) -> str:
    md5s = [bytes.fromhex(e.strip('"').split("-")[0]) for e in part_etags]
    return f"{hashlib.md5(b''.join(md5s)).hexdigest()}-{len(md5s)}"


def composite(alg: str, part_values: list[str]) -> str:
    """COMPOSITE checksum: the algorithm over the concatenated raw part checksums, ``-N``."""
    raw = b"".join(base64.b64decode(v) for v in part_values)
    if alg in _HASHES:
        digest = hashlib.new(_HASHES[alg], raw).digest()
    elif alg == "CRC32":
        digest = crt.crc32(raw).to_bytes(4, "big")
    elif alg == "CRC32C":
        digest = crt.crc32c(raw).to_bytes(4, "big")
    else:
        digest = crt.crc64nvme(raw).to_bytes(8, "big")
    return f"{base64.b64encode(digest).decode()}-{len(part_values)}"


def full_object(alg: str, parts: list[tuple[str, int]]) -> str:
    """FULL_OBJECT CRC of a multipart object from (part CRC, part size), without reading bytes."""
    combine = _CRC_COMBINE[alg]
    crc = 0
    for i, (value, size) in enumerate(parts):
        part_crc = int.from_bytes(base64.b64decode(value), "big")
        crc = part_crc if i == 0 else combine(crc, part_crc, size)
    return base64.b64encode(crc.to_bytes(_SIZES[alg], "big")).decode()


def supports_full_object(alg: str) -> bool:
    return alg in _CRC_COMBINE


def checksum_output(checksums: Mapping[str, str], checksum_type: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {MEMBERS[alg]: value for alg, value in checksums.items() if alg in MEMBERS}
    if out and checksum_type:
        out["ChecksumType"] = checksum_type
    return out
