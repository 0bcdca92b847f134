"""What SQS keeps in lsm: queues, messages, FIFO deduplication entries and message move tasks.

Records are dataclasses stored as compact JSON. Message attribute values of type Binary are bytes
in memory and base64 text on disk.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class QueueRecord:
    account: str
    region: str
    name: str
    # The settable attributes as AWS reports them (strings), defaults filled in.
    attributes: dict[str, str]
    created: int  # epoch seconds
    modified: int
    tags: dict[str, str] = field(default_factory=dict)
    # Messages live under (name, gen); a purge or a re-creation moves to a new gen.
    gen: int = 0
    # Changes on every creation: FIFO dedup entries of an older incarnation are ignored.
    incarnation: str = ""
    last_purge: float = 0.0

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    def int_attr(self, name: str) -> int:
        return int(self.attributes[name])

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "QueueRecord":
        return cls(**json.loads(raw))


# A message attribute value as the API shapes it: {"DataType": ..., "StringValue"|"BinaryValue": ...}
AttributeValue = dict[str, Any]


def _attrs_to_json(attrs: dict[str, AttributeValue]) -> list[list[str]]:
    out = []
    for name, value in attrs.items():
        if "BinaryValue" in value:
            out.append([name, value["DataType"], "B", base64.b64encode(value["BinaryValue"]).decode()])
        else:
            out.append([name, value["DataType"], "S", value["StringValue"]])
    return out


def _attrs_from_json(rows: list[list[str]]) -> dict[str, AttributeValue]:
    attrs: dict[str, AttributeValue] = {}
    for name, data_type, kind, value in rows:
        if kind == "B":
            attrs[name] = {"DataType": data_type, "BinaryValue": base64.b64decode(value)}
        else:
            attrs[name] = {"DataType": data_type, "StringValue": value}
    return attrs


@dataclass
class MessageRecord:
    message_id: str
    body: str
    md5_body: str
    attributes: dict[str, AttributeValue]
    md5_attributes: str | None
    system_attributes: dict[str, AttributeValue]
    md5_system_attributes: str | None
    sent_ms: int
    sender_id: str
    seq: int
    visible_ms: int
    group_id: str | None = None
    dedup_id: str | None = None
    receive_count: int = 0
    first_receive_ms: int = 0
    # The current receipt handle's nonce; a handle with an older nonce is stale.
    receipt_nonce: str = ""
    dead_letter_source_arn: str | None = None
    received_ms: int = 0  # time of the latest receive (the 12-hour visibility cap counts from it)

    def to_bytes(self) -> bytes:
        row = [
            self.message_id, self.body, self.md5_body, _attrs_to_json(self.attributes),
            self.md5_attributes, _attrs_to_json(self.system_attributes), self.md5_system_attributes,
            self.sent_ms, self.sender_id, self.seq, self.visible_ms, self.group_id, self.dedup_id,
            self.receive_count, self.first_receive_ms, self.receipt_nonce, self.dead_letter_source_arn,
            self.received_ms,
        ]  # fmt: skip
        return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "MessageRecord":
        row = json.loads(raw)
        row[3] = _attrs_from_json(row[3])
        row[5] = _attrs_from_json(row[5])
        return cls(*row)


@dataclass
class DedupRecord:
    """A FIFO deduplication entry: sends with the same id within 5 minutes are accepted, not queued."""

    incarnation: str
    message_id: str
    sequence_number: str
    expires_ms: int

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "DedupRecord":
        return cls(**json.loads(raw))


@dataclass
class MoveTask:
    task_id: str
    task_handle: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    started_ms: int
    status: str = "RUNNING"  # RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED
    moved: int = 0
    to_move: int = 0
    failure_reason: str | None = None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "MoveTask":
        return cls(**json.loads(raw))
