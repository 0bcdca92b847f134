"""What S3 keeps in lsm: buckets, object versions, multipart uploads and parts (JSON values).

Records are plain dataclasses whose fields are JSON types, so a value is ``json.dumps`` of the
instance dict (no deep copy); unknown fields in stored values are ignored on load, so a record
can gain fields without a migration. Bucket configuration (CORS, lifecycle, policy ...) is kept
in the bucket record as the botocore-shaped dict it arrived as, keyed by configuration name:
Get* answers it as stored.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T", bound="Record")


class Record:
    def encode(self) -> bytes:
        return json.dumps(self.__dict__, separators=(",", ":")).encode()

    @classmethod
    def decode(cls: type[T], raw: bytes) -> T:
        data = json.loads(raw)
        names = _field_names(cls)
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[call-arg]

    def copy(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


_FIELDS: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    return names


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
