"""The ``Filter`` of S3 bucket configurations: one ``Prefix``, one ``Tag``, or an ``And`` of them.

Replication rules, analytics, metrics and Intelligent-Tiering configurations share this shape
(metrics adds ``AccessPointArn``). S3 reads a filter as exactly one predicate; more than one, or
an ``And`` with fewer than two operands, does not validate against its schema (MalformedXML).
Tag keys inside ``And`` must be distinct. The same module answers whether an object matches a
stored filter, for replication.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.s3.errors import InvalidRequest, MalformedXML

DUPLICATE_TAG_KEYS = "Duplicate Tag Keys are not allowed."


def validate_filter(flt: dict[str, Any] | None, *, extra: tuple[str, ...] = ()) -> None:
    """Raise S3's error for a filter that is not exactly one predicate (``extra``: more kinds)."""
    if not flt:
        return  # an empty <Filter/> selects every object
    kinds = [k for k in ("Prefix", "Tag", "And", *extra) if k in flt]
    if len(kinds) != 1:
        raise MalformedXML()
    if "Tag" in flt:
        _check_tag(flt["Tag"])
    conj = flt.get("And")
    if conj is not None:
        tags = conj.get("Tags") or []
        operands = len(tags) + sum(1 for k in ("Prefix", *extra) if k in conj)
        if operands < 2:
            raise MalformedXML()
        seen: set[str] = set()
        for tag in tags:
            _check_tag(tag)
            if tag["Key"] in seen:
                raise InvalidRequest(DUPLICATE_TAG_KEYS)
            seen.add(tag["Key"])


def _check_tag(tag: Any) -> None:
    if not isinstance(tag, dict) or "Key" not in tag or "Value" not in tag:
        raise MalformedXML()


def filter_prefix(flt: dict[str, Any] | None) -> str:
    flt = flt or {}
    return flt.get("Prefix") or (flt.get("And") or {}).get("Prefix") or ""


def filter_tags(flt: dict[str, Any] | None) -> list[dict[str, str]]:
    flt = flt or {}
    if flt.get("Tag"):
        return [flt["Tag"]]
    return list((flt.get("And") or {}).get("Tags") or [])


def matches(flt: dict[str, Any] | None, key: str, tags: dict[str, str]) -> bool:
    """Whether an object (key and tag set) is selected by a stored filter."""
    if not key.startswith(filter_prefix(flt)):
        return False
    return all(tags.get(t["Key"]) == t["Value"] for t in filter_tags(flt))
