"""The ``application/vnd.amazon.eventstream`` framing (encoder only), as AWS streams events to SDKs.

One message on the wire::

    total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (u32 BE)
    headers: name length (u8) | name | value type (u8) | value
    payload
    message CRC32 (u32 BE, over everything before it)

The CRC is plain CRC-32 (zlib's), not CRC-32C. Only what streaming responses use is written here:
string header values (type 7). An event is a message with ``:message-type: event``,
``:event-type: <member name>`` and ``:content-type``; a modelled exception is ``:message-type:
exception`` with ``:exception-type``.

Nothing in it is Lambda's: S3 SelectObjectContent frames its Records/Stats/End events the same way,
so this module belongs in ``awsemu/protocol`` once a second service uses it (it imports nothing of
Lambda's for that reason).
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

_STRING = 7
_PRELUDE = struct.Struct(">II")
_U32 = struct.Struct(">I")
MAX_HEADER_VALUE = 0xFFFF


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
    if len(raw_name) > 255 or len(raw_value) > MAX_HEADER_VALUE:
        raise ValueError(f"event-stream header {name!r} too long")
    return bytes((len(raw_name),)) + raw_name + bytes((_STRING,)) + struct.pack(">H", len(raw_value)) + raw_value


def message(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """One framed message with string ``headers`` (in order) and ``payload``."""
    encoded = b"".join(_header(name, value) for name, value in headers)
    total = _PRELUDE.size + 4 + len(encoded) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(encoded))
    head = prelude + _U32.pack(zlib.crc32(prelude)) + encoded
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + payload + _U32.pack(crc)


def event(event_type: str, payload: bytes, content_type: str = "application/octet-stream") -> bytes:
    """An event whose member is the payload itself (an ``eventpayload`` blob)."""
    return message([(":event-type", event_type), (":content-type", content_type), (":message-type", "event")],
                   payload)


def json_event(event_type: str, members: dict[str, Any]) -> bytes:
    """An event whose members travel as a JSON document (rest-json and json protocols)."""
    body = json.dumps({k: v for k, v in members.items() if v is not None}).encode("utf-8")
    return event(event_type, body, "application/json")


def exception(exception_type: str, message_text: str) -> bytes:
    """A modelled error inside the stream (the HTTP status already went out as 200)."""
    return message([(":exception-type", exception_type), (":content-type", "application/json"),
                    (":message-type", "exception")], json.dumps({"message": message_text}).encode("utf-8"))
