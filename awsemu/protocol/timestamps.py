"""Timestamp formats of the AWS protocols, without dateutil on the hot path.

botocore parses timestamps with dateutil, which costs most of a large listing's parse time
(STYLE.md, pitfall 1). Providers hand us ``datetime`` (aware, UTC) or epoch seconds; we write:

- ``iso8601``:  ``2026-11-27T11:13:40.000Z`` (rest-xml and query bodies)
- ``rfc822``:   ``Fri, 27 Nov 2026 11:13:40 GMT`` (headers such as Last-Modified)
- ``unixTimestamp``: epoch seconds as a JSON number (json and rest-json bodies)
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from typing import Union

Timestamp = Union[datetime, int, float]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def to_datetime(value: Timestamp) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(value), tz=timezone.utc)


def to_epoch(value: Timestamp) -> float:
    if isinstance(value, datetime):
        return to_datetime(value).timestamp()
    return float(value)


def format_iso8601(value: Timestamp) -> str:
    d = to_datetime(value).astimezone(timezone.utc)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{d.microsecond // 1000:03d}Z"
    )


def format_rfc822(value: Timestamp) -> str:
    d = to_datetime(value).astimezone(timezone.utc)
    return (
        f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year:04d} "
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} GMT"
    )


def format_epoch(value: Timestamp) -> int | float:
    epoch = to_epoch(value)
    return int(epoch) if epoch == int(epoch) else round(epoch, 3)


def format_timestamp(value: Timestamp, fmt: str) -> str | int | float:
    if fmt == "rfc822":
        return format_rfc822(value)
    if fmt == "unixTimestamp":
        return format_epoch(value)
    return format_iso8601(value)


def parse_timestamp(text: str | int | float) -> datetime:
    """Parse any of the three formats (clients are lenient about which one they send)."""
    if isinstance(text, (int, float)):
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    s = text.strip()
    try:
        return datetime.fromtimestamp(float(s), tz=timezone.utc)
    except ValueError:
        pass
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        d = datetime.fromisoformat(s)
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    parsed = email.utils.parsedate_to_datetime(text)  # raises ValueError/TypeError when not RFC 822
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
