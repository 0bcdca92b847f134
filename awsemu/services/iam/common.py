"""What the IAM operations share: error classes worded as IAM words them, paging, tags, documents."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any, Callable, Sequence
from urllib.parse import quote

from awsemu.services.iam.policy import MalformedPolicy, parse_policy
from awsemu.services.base import ServiceError


class NoSuchEntity(ServiceError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(ServiceError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(ServiceError):
    code = "DeleteConflict"
    status = 409


class LimitExceeded(ServiceError):
    code = "LimitExceeded"
    status = 409


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"
    status = 400


class InvalidInput(ServiceError):
    code = "InvalidInput"
    status = 400


class ValidationError(ServiceError):
    code = "ValidationError"
    status = 400


class UnmodifiableEntity(ServiceError):
    code = "UnmodifiableEntity"
    status = 400


class PolicyEvaluationError(ServiceError):
    code = "PolicyEvaluation"
    status = 500


MAX_POLICY_VERSIONS = 5
MAX_ACCESS_KEYS = 2
MAX_TAGS = 50
_PATH = re.compile(r"^/(?:[\x21-\x7e]*/)?$")


def now() -> float:
    return time.time()


def validate_path(path: str | None) -> str:
    path = path or "/"
    if not _PATH.match(path) or len(path) > 512:
        raise ValidationError(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
            "characters and/or / characters."
        )
    return path


def check_document(text: str, kind: str = "identity", size_limit: int = 6144, quota: str = "PolicySize") -> str:
    """Validate a policy document; IAM's MalformedPolicyDocument message on failure."""
    try:
        parse_policy(text, kind)
    except MalformedPolicy as exc:
        raise MalformedPolicyDocument(str(exc)) from None
    if len("".join(text.split())) > size_limit:
        raise LimitExceeded(f"Cannot exceed quota for {quota}: {size_limit}")
    return text


def encode_document(text: str) -> str:
    """IAM returns policy documents URL-encoded (the SDKs decode them)."""
    return quote(text, safe="")


def page(items: Sequence[Any], marker: str | None, max_items: int | None,
         sort_key: Callable[[Any], str]) -> tuple[list[Any], dict[str, Any]]:
    """Marker/MaxItems/IsTruncated paging over items in sort order. The marker is opaque (base64 of
    the sort key of the next item)."""
    limit = max_items or 100
    if limit < 1 or limit > 1000:
        raise ValidationError(f"1 validation error detected: Value '{limit}' at 'maxItems' failed to satisfy "
                              "constraint: Member must have value less than or equal to 1000")
    ordered = sorted(items, key=sort_key)
    start = 0
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except ValueError:
            raise ValidationError("Invalid Marker.") from None
        start = next((i for i, item in enumerate(ordered) if sort_key(item) >= after), len(ordered))
    chosen = ordered[start:start + limit]
    rest = ordered[start + limit:]
    meta: dict[str, Any] = {"IsTruncated": bool(rest)}
    if rest:
        meta["Marker"] = base64.urlsafe_b64encode(sort_key(rest[0]).encode()).decode()
    return chosen, meta


def check_tags(tags: list[dict[str, str]] | None) -> list[dict[str, str]]:
    tags = tags or []
    if len(tags) > MAX_TAGS:
        raise LimitExceeded(f"Cannot exceed quota for TagsPerResource: {MAX_TAGS}")
    keys = [t["Key"].lower() for t in tags]
    if len(keys) != len(set(keys)):
        raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags]


def merge_tags(existing: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {t["Key"].lower(): t for t in existing}
    for t in check_tags(new):
        merged[t["Key"].lower()] = t
    result = list(merged.values())
    if len(result) > MAX_TAGS:
        raise LimitExceeded(f"Cannot exceed quota for TagsPerResource: {MAX_TAGS}")
    return result


def remove_tags(existing: list[dict[str, str]], keys: list[str]) -> list[dict[str, str]]:
    drop = {k.lower() for k in keys}
    return [t for t in existing if t["Key"].lower() not in drop]


def dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))
