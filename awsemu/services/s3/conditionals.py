"""Conditional requests and byte ranges: pure functions of the request and the stored version.

Reads (GetObject, HeadObject) follow RFC 9110 section 13.2.2 as S3 applies it: If-Match, then
If-Unmodified-Since (only without If-Match) -> 412; If-None-Match, then If-Modified-Since (only
without If-None-Match) -> 304. Copy-source conditions answer 412 for every failure. Writes
(PutObject, CompleteMultipartUpload, CopyObject) support ``If-None-Match: *`` and ``If-Match``.
Dates compare at one-second precision, as Last-Modified carries no more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from awsemu.services.s3.errors import InvalidRange, NotModified, no_such_key, precondition_failed
from awsemu.services.s3.records import ObjectVersion


def _etag_matches(header: str, etag: str) -> bool:
    for item in header.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        if item == "*" or item.strip('"') == etag:
            return True
    return False


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


def check_read(
    rec: ObjectVersion,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: Any,
    if_unmodified_since: Any,
    headers: dict[str, str] | None = None,
) -> None:
    modified = int(rec.last_modified)
    if if_match is not None:
        if not _etag_matches(if_match, rec.etag):
            raise precondition_failed("If-Match")
    elif if_unmodified_since is not None and modified > _seconds(if_unmodified_since):
        raise precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if _etag_matches(if_none_match, rec.etag):
            raise NotModified(headers=headers or {})
    elif if_modified_since is not None and modified <= _seconds(if_modified_since):
        raise NotModified(headers=headers or {})


def check_copy_source(rec: ObjectVersion, params: dict[str, Any]) -> None:
    modified = int(rec.last_modified)
    if_match = params.get("CopySourceIfMatch")
    if_none_match = params.get("CopySourceIfNoneMatch")
    since = params.get("CopySourceIfModifiedSince")
    unmodified = params.get("CopySourceIfUnmodifiedSince")
    if if_match is not None:
        if not _etag_matches(if_match, rec.etag):
            raise precondition_failed("x-amz-copy-source-If-Match")
    elif unmodified is not None and modified > _seconds(unmodified):
        raise precondition_failed("x-amz-copy-source-If-Unmodified-Since")
    if if_none_match is not None:
        if _etag_matches(if_none_match, rec.etag):
            raise precondition_failed("x-amz-copy-source-If-None-Match")
    elif since is not None and modified <= _seconds(since):
        raise precondition_failed("x-amz-copy-source-If-Modified-Since")


def check_write(current: ObjectVersion | None, key: str, if_match: str | None, if_none_match: str | None) -> None:
    """Conditional writes, evaluated under the key lock against the current version."""
    live = current if current is not None and not current.delete_marker else None
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise_not_implemented_header("If-None-Match")
        if live is not None:
            raise precondition_failed("If-None-Match")
    if if_match is not None:
        if live is None:
            raise no_such_key(key)
        if not _etag_matches(if_match, live.etag):
            raise precondition_failed("If-Match")


def raise_not_implemented_header(name: str) -> None:
    from awsemu.services.s3.errors import S3Error

    raise S3Error(
        "A header you provided implies functionality that is not implemented",
        code="NotImplemented",
        status=501,
        fields={"Header": name},
    )


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range a ``Range`` header selects; None for the whole object (absent or ignored
    headers, as S3 ignores syntactically invalid ones); InvalidRange (416) when unsatisfiable."""
    if header is None:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return ByteRange(max(0, size - suffix), size)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: S3 serves the whole object
    if start >= size:
        raise _unsatisfiable(header, size)
    end = size if last == "" else min(int(last) + 1, size)
    return ByteRange(start, end)


def _unsatisfiable(header: str, size: int) -> Exception:
    return InvalidRange(fields={"RangeRequested": header, "ActualObjectSize": str(size)})
