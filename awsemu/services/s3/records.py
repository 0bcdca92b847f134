"""What S3 keeps in lsm: buckets, object versions, multipart uploads and parts (JSON values).

Records are plain dataclasses whose fields are JSON types, so a value is ``json.dumps`` of the
instance dict (no deep copy) minus the fields that hold their default: most of an object version's
two dozen fields are empty, and every PutObject writes the record twice (the version and the
current pointer), so leaving them out halves what lsm stores, logs and compacts. Missing fields
load as their defaults and unknown fields in stored values are ignored, so a record can gain
fields without a migration. Bucket configuration (CORS, lifecycle, policy ...) is kept
in the bucket record as the botocore-shaped dict it arrived as, keyed by configuration name:
Get* answers it as stored.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

T = TypeVar("T", bound="Record")


class Record:
    def encode(self) -> bytes:
        defaults = _layout(type(self)).defaults
        missing = _MISSING
        compact = {k: v for k, v in self.__dict__.items() if defaults.get(k, missing) != v}
        return _encoder(compact).encode()

    @classmethod
    def decode(cls: type[T], raw: bytes) -> T:
        layout = _layout(cls)
        data = json.loads(raw)
        if not layout.names.issuperset(data):
            data = {k: v for k, v in data.items() if k in layout.names}
        # Built without the generated __init__, whose keyword call over two dozen fields cost as
        # much as the JSON parse (a listing decodes a record per key): plain defaults, then the
        # stored fields, then a fresh container for each factory field the value left out.
        # Records define no __post_init__, so nothing is skipped.
        obj = object.__new__(cls)
        fields = obj.__dict__
        fields.update(layout.plain)
        fields.update(data)
        for name, factory in layout.factories:
            if name not in data:
                fields[name] = factory()
        return obj

    def copy(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


_encoder = json.JSONEncoder(separators=(",", ":")).encode
_MISSING = object()


class _Layout:
    """What encode and decode need to know about one record class's fields."""

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.names = frozenset(f.name for f in fields)
        self.plain: dict[str, Any] = {}  # field -> default, for fields with a plain default
        self.factories: list[tuple[str, Callable[[], Any]]] = []  # fields with a default factory
        for f in fields:
            if f.default is not dataclasses.MISSING:
                self.plain[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                self.factories.append((f.name, f.default_factory))
        # every default, to compare against when encoding (factory values made once, never handed out)
        self.defaults = {**self.plain, **{name: factory() for name, factory in self.factories}}


_LAYOUTS: dict[type, _Layout] = {}


def _layout(cls: type) -> _Layout:
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = _Layout(cls)
    return layout


@dataclass
class BucketRecord(Record):
    name: str
    owner: str  # account id
    region: str
    created: float
    versioning: str = ""  # "" (never enabled) | "Enabled" | "Suspended"
    mfa_delete: str = ""
    object_lock: bool = False
    # configuration name -> botocore-shaped dict (see config.py for the names)
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class ObjectVersion(Record):
    """One version of one key: a body reference plus everything S3 returns about it."""

    key: str
    seq: int
    version_id: str  # "null" for versions written while versioning was off or suspended
    last_modified: float
    owner: str = ""
    delete_marker: bool = False
    blob_id: str | None = None  # None: empty body
    size: int = 0
    etag: str = ""  # without quotes; multipart: "<md5 of md5s>-<parts>"
    content_type: str | None = None
    content_encoding: str | None = None
    content_disposition: str | None = None
    content_language: str | None = None
    cache_control: str | None = None
    expires: str | None = None  # kept as sent
    website_redirect: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    sse: dict[str, Any] = field(default_factory=dict)  # ServerSideEncryption, SSEKMSKeyId, SSECustomer*
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64 value
    checksum_type: str | None = None  # FULL_OBJECT | COMPOSITE (None: no client checksum asked)
    checksum_algorithm: str | None = None  # what the client asked for (shown in listings)
    tags: dict[str, str] = field(default_factory=dict)
    acl: dict[str, Any] | None = None  # {"Owner":..., "Grants": [...]} when set explicitly
    # multipart: [size, etag, {algorithm: checksum}] per part, in order
    parts: list[list[Any]] | None = None
    lock_mode: str | None = None
    lock_until: str | None = None  # ISO 8601
    legal_hold: str | None = None  # "ON" | "OFF"
    # RestoreObject of an archived version (archive.py): when it was asked, when the temporary
    # copy is (or was) ready, when that copy expires; epoch seconds, all None if never restored
    restore_requested: float | None = None
    restore_done: float | None = None
    restore_expiry: float | None = None
    # x-amz-replication-status (replication.py): PENDING | COMPLETED | FAILED on a source, REPLICA on a replica
    replication_status: str | None = None

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'


@dataclass
class UploadRecord(Record):
    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner: str
    # the object's future attributes, as CreateMultipartUpload set them
    attrs: dict[str, Any] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass
class PartRecord(Record):
    number: int
    blob_id: str | None
    size: int
    etag: str
    last_modified: float
    checksums: dict[str, str] = field(default_factory=dict)
