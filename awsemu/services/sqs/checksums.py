"""The MD5 digests SQS returns, computed exactly as AWS does (SDKs verify them).

``MD5OfMessageBody`` is the MD5 of the UTF-8 body. ``MD5OfMessageAttributes`` (and, with the same
algorithm, ``MD5OfMessageSystemAttributes``) digests the attributes sorted by name, each written as
``len(name) name len(type) type transport value-length value``: lengths are 4-byte big-endian, the
transport byte is 1 for String and Number values and 2 for Binary ones. See "Calculating the MD5
message digest for message attributes" in the SQS Developer Guide.
"""

from __future__ import annotations

import hashlib
import struct

from awsemu.services.sqs.records import AttributeValue

_STRING = b"\x01"
_BINARY = b"\x02"


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _put(digest: "hashlib._Hash", data: bytes) -> None:
    digest.update(struct.pack(">I", len(data)))
    digest.update(data)


def md5_of_attributes(attributes: dict[str, AttributeValue]) -> str | None:
    """None for no attributes: AWS then omits the member."""
    if not attributes:
        return None
    digest = hashlib.md5()
    for name in sorted(attributes):
        value = attributes[name]
        _put(digest, name.encode("utf-8"))
        _put(digest, value["DataType"].encode("utf-8"))
        if "BinaryValue" in value:
            digest.update(_BINARY)
            _put(digest, bytes(value["BinaryValue"]))
        else:
            digest.update(_STRING)
            _put(digest, value["StringValue"].encode("utf-8"))
    return digest.hexdigest()
