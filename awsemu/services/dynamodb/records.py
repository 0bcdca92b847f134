"""What DynamoDB stores: table records (dataclasses, JSON in lsm) and the item value format.

Items are stored as their canonical AttributeValue JSON. JSON has no bytes, so binaries are
written as ``{"$b": base64}``; that shape can only stand where a raw binary stands (a user map's
values are always AttributeValue dicts), and the decoder only walks an item whose text contains
the marker, so items without binaries load with a single ``json.loads``.
"""

from __future__ import annotations

import base64
import json
import json.encoder
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

_MARK = b'{"$b":'


def _binary(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray)):
        return {"$b": base64.b64encode(obj).decode("ascii")}
    raise TypeError(f"cannot store {type(obj).__name__}")


def _item_encoder() -> Callable[[dict[str, Any]], str]:
    """One encoder for every item. ``json.dumps`` with non-default options builds a JSONEncoder per
    call, and ``JSONEncoder.encode`` builds its C encoder per call: together as costly as encoding
    a 1 KB item. CPython's C encoder (``json.encoder.c_make_encoder``) is built once when present;
    items hold no floats and no cycles, so no float formatter or cycle markers are needed."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C accelerator
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_binary).encode
    encoder = make(None, _binary, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda item: "".join(encoder(item, 0))


_encode = _item_encoder()


def dump_item(item: dict[str, Any]) -> bytes:
    return _encode(item).encode("utf-8")


def load_item(data: bytes) -> dict[str, Any]:
    item = json.loads(data)
    if _MARK in data:
        for value in item.values():
            _restore(value)
    return item  # type: ignore[no-any-return]


def _restore(value: dict[str, Any]) -> None:
    kind, raw = next(iter(value.items()))
    if kind == "B":
        value["B"] = base64.b64decode(raw["$b"])
    elif kind == "BS":
        value["BS"] = [base64.b64decode(r["$b"]) for r in raw]
    elif kind == "M":
        for inner in raw.values():
            _restore(inner)
    elif kind == "L":
        for inner in raw:
            _restore(inner)


@dataclass
class KeySchema:
    hash_name: str
    hash_type: str
    range_name: Optional[str] = None
    range_type: Optional[str] = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_name,) if self.range_name is None else (self.hash_name, self.range_name)

    def describe(self) -> list[dict[str, str]]:
        out = [{"AttributeName": self.hash_name, "KeyType": "HASH"}]
        if self.range_name is not None:
            out.append({"AttributeName": self.range_name, "KeyType": "RANGE"})
        return out


@dataclass
class IndexRecord:
    name: str
    schema: KeySchema
    projection_type: str = "ALL"  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: list[str] = field(default_factory=list)
    is_global: bool = True
    status: str = "ACTIVE"  # CREATING while an index added by UpdateTable is being built
    backfilling: bool = False  # CREATING: False while "allocating", True once existing items are copied
    read_capacity: int = 0
    write_capacity: int = 0
    created: float = 0.0  # when UpdateTable added it (0: created with the table)

    def projection(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ProjectionType": self.projection_type}
        if self.projection_type == "INCLUDE":
            out["NonKeyAttributes"] = list(self.non_key_attributes)
        return out


@dataclass
class TableRecord:
    name: str
    uid: str
    account: str
    region: str
    schema: KeySchema
    attribute_definitions: list[dict[str, str]]
    created: float
    billing_mode: str = "PROVISIONED"
    read_capacity: int = 0
    write_capacity: int = 0
    status: str = "ACTIVE"
    gsis: list[IndexRecord] = field(default_factory=list)
    lsis: list[IndexRecord] = field(default_factory=list)
    stream_enabled: bool = False
    stream_view_type: Optional[str] = None
    stream_label: Optional[str] = None
    sse: Optional[dict[str, Any]] = None
    tags: dict[str, str] = field(default_factory=dict)
    ttl_attribute: Optional[str] = None
    ttl_enabled: bool = False
    deletion_protection: bool = False
    table_class: str = "STANDARD"
    billing_switched: float = 0.0
    throughput_decreases: int = 0
    last_increase: float = 0.0
    last_decrease: float = 0.0
    point_in_time_recovery: bool = False
    retired: float = 0.0  # set on the copy kept for a retired stream: when it stopped (streams.py)
    # Point-in-time recovery (point_in_time.py): when it was enabled, the recovery period, and the
    # time whose items the recovery base image holds (the change log replays from there).
    pitr_since: float = 0.0
    pitr_period_days: int = 35
    pitr_base_time: float = 0.0
    # A table made by RestoreTableFromBackup / RestoreTableToPointInTime: its RestoreSummary
    # (SourceBackupArn, SourceTableArn, RestoreDateTime as epoch seconds).
    restore_summary: Optional[dict[str, Any]] = None

    # Not a field (never stored): the table ARN the request named this table by, set on a copy by
    # tables.get_table. Responses that echo a table (ConsumedCapacity, batch maps) echo it as given.
    requested_as = None  # type: Optional[str]

    @property
    def name_as_given(self) -> str:
        """The table as the request named it: its ARN if the request used the ARN, else its name."""
        return self.requested_as or self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.name}"

    @property
    def stream_arn(self) -> str | None:
        if self.stream_label is None:
            return None
        return f"{self.arn}/stream/{self.stream_label}"

    def index(self, name: str) -> IndexRecord | None:
        for idx in self.gsis + self.lsis:
            if idx.name == name:
                return idx
        return None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "TableRecord":
        raw = json.loads(data)
        raw["schema"] = KeySchema(**raw["schema"])
        for kind in ("gsis", "lsis"):
            raw[kind] = [IndexRecord(**{**i, "schema": KeySchema(**i["schema"])}) for i in raw[kind]]
        return cls(**raw)
