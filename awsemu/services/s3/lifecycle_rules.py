"""Lifecycle rules as data: validation at PutBucketLifecycleConfiguration, which objects a rule
selects, and when its actions fall due. The sweeper that acts on them is lifecycle.py.

Times (S3 user guide "Lifecycle configuration elements"): S3 counts days from object creation,
or for noncurrent actions from when a newer version replaced the object, rounded up to the next
midnight UTC. A "day" can be shortened with ``AWSEMU_S3_LIFECYCLE_DAY_SECONDS`` (tests); then no
rounding applies.

Transitions ("Transitioning objects using Amazon S3 Lifecycle"): objects only move down the
waterfall STANDARD → STANDARD_IA → INTELLIGENT_TIERING → ONEZONE_IA → GLACIER_IR → GLACIER →
DEEP_ARCHIVE. By default (``TransitionDefaultMinimumObjectSize`` ``all_storage_classes_128K``)
objects under 128 KiB do not transition at all; with ``varies_by_storage_class`` they still go to
GLACIER and DEEP_ARCHIVE. A size condition in the rule's filter overrides that default.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from typing import Any

from awsemu.services.s3.errors import InvalidRequest, MalformedXML, invalid_argument
from awsemu.services.s3.records import ObjectVersion

DAY = 86400.0
# rank in the transition waterfall: a version only moves to a class of higher rank
WATERFALL = {"STANDARD": 0, "REDUCED_REDUNDANCY": 0, "STANDARD_IA": 1, "INTELLIGENT_TIERING": 2, "ONEZONE_IA": 3,
             "GLACIER_IR": 4, "GLACIER": 5, "DEEP_ARCHIVE": 6}
TRANSITION_CLASSES = frozenset(WATERFALL) - {"STANDARD", "REDUCED_REDUNDANCY"}
INFREQUENT_ACCESS = frozenset({"STANDARD_IA", "ONEZONE_IA"})  # 30 days in STANDARD first
# minimum storage duration: the next transition of a rule comes at least this long after one to it
MIN_STORAGE_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90, "DEEP_ARCHIVE": 180}
SMALL_OBJECT = 128 * 1024
MIN_SIZE_SETTINGS = frozenset({"all_storage_classes_128K", "varies_by_storage_class"})
ACTIONS = ("Expiration", "Transitions", "NoncurrentVersionExpiration", "NoncurrentVersionTransitions",
           "AbortIncompleteMultipartUpload")


def day_seconds() -> float:
    return float(os.environ.get("AWSEMU_S3_LIFECYCLE_DAY_SECONDS", DAY))


def after_days(start: float, days: int) -> float:
    """The instant ``days`` lifecycle days after ``start``."""
    length = day_seconds()
    if length == DAY:
        return math.ceil((start + days * DAY) / DAY) * DAY  # next midnight UTC
    return start + days * length


def _timestamp(date: Any) -> float:
    if isinstance(date, (int, float)):
        return float(date)
    if isinstance(date, str):
        date = datetime.fromisoformat(date.replace("Z", "+00:00"))
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return float(date.timestamp())


def stored_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules as stored: ``Date`` values as epoch seconds (the record is JSON; the protocol
    layer writes epoch seconds back as the timestamps they were)."""
    out = []
    for rule in rules:
        rule = dict(rule)
        if (rule.get("Expiration") or {}).get("Date") is not None:
            rule["Expiration"] = {**rule["Expiration"], "Date": int(_timestamp(rule["Expiration"]["Date"]))}
        if rule.get("Transitions"):
            rule["Transitions"] = [{**step, "Date": int(_timestamp(step["Date"]))} if step.get("Date") is not None
                                   else step for step in rule["Transitions"]]
        out.append(rule)
    return out


def rule_prefix(rule: dict[str, Any]) -> str:
    flt = rule.get("Filter") or {}
    return rule.get("Prefix") or flt.get("Prefix") or (flt.get("And") or {}).get("Prefix") or ""


def _conditions(rule: dict[str, Any]) -> dict[str, Any]:
    flt = rule.get("Filter") or {}
    return flt.get("And") or flt


def rule_matches(rule: dict[str, Any], rec: ObjectVersion) -> bool:
    """Whether an enabled rule's filter (prefix, tags, object size, And) selects a version."""
    if rule.get("Status") != "Enabled" or not rec.key.startswith(rule_prefix(rule)):
        return False
    flt = rule.get("Filter") or {}
    cond = _conditions(rule)
    tags = list(cond.get("Tags") or []) + ([flt["Tag"]] if flt.get("Tag") else [])
    for tag in tags:
        if rec.tags.get(tag.get("Key")) != tag.get("Value"):
            return False
    if cond.get("ObjectSizeGreaterThan") is not None and not rec.size > cond["ObjectSizeGreaterThan"]:
        return False
    if cond.get("ObjectSizeLessThan") is not None and not rec.size < cond["ObjectSizeLessThan"]:
        return False
    return True


def expiry_of(rule: dict[str, Any], rec: ObjectVersion) -> float | None:
    """When the rule's Expiration removes the current version ``rec`` (None: it has none)."""
    expiration = rule.get("Expiration") or {}
    if expiration.get("Days") is not None:
        return after_days(rec.last_modified, int(expiration["Days"]))
    if expiration.get("Date") is not None:
        return _timestamp(expiration["Date"])
    return None


def _size_allows(rule: dict[str, Any], min_size: str, rec: ObjectVersion, storage_class: str) -> bool:
    cond = _conditions(rule)
    if cond.get("ObjectSizeGreaterThan") is not None or cond.get("ObjectSizeLessThan") is not None:
        return True  # a custom size filter takes precedence over the default minimum
    if rec.size >= SMALL_OBJECT:
        return True
    return min_size == "varies_by_storage_class" and storage_class in ("GLACIER", "DEEP_ARCHIVE")


def transition_due(rule: dict[str, Any], min_size: str, rec: ObjectVersion, now: float,
                   became_noncurrent: float | None = None, noncurrent_index: int = 0) -> str | None:
    """The storage class a version should move to now under ``rule`` (None: no move).

    Of the rule's transitions that are due, the one furthest down the waterfall wins, and only if
    it is further down than where the version is. ``became_noncurrent`` selects the rule's
    NoncurrentVersionTransitions (the version is then the ``noncurrent_index``-th newest
    noncurrent one) instead of its Transitions."""
    if rec.delete_marker or not rule_matches(rule, rec):
        return None
    best: str | None = None
    rank = WATERFALL.get(rec.storage_class, 0)
    if became_noncurrent is None:
        for step in rule.get("Transitions") or []:
            when = (after_days(rec.last_modified, int(step["Days"])) if step.get("Days") is not None
                    else _timestamp(step["Date"]) if step.get("Date") is not None else None)
            if when is not None and when <= now and WATERFALL.get(step.get("StorageClass") or "", 0) > rank:
                best, rank = step["StorageClass"], WATERFALL[step["StorageClass"]]
    else:
        for step in rule.get("NoncurrentVersionTransitions") or []:
            if noncurrent_index < int(step.get("NewerNoncurrentVersions") or 0):
                continue  # the newest N noncurrent versions are retained where they are
            when = after_days(became_noncurrent, int(step.get("NoncurrentDays") or 0))
            if when <= now and WATERFALL.get(step.get("StorageClass") or "", 0) > rank:
                best, rank = step["StorageClass"], WATERFALL[step["StorageClass"]]
    if best is not None and not _size_allows(rule, min_size, rec, best):
        return None
    return best


# --- validation ------------------------------------------------------------------------------------

def _filter_text(rule: dict[str, Any]) -> str:
    flt = rule.get("Filter") or {}
    if "Prefix" in rule or "Prefix" in flt or "Prefix" in (flt.get("And") or {}):
        return f"'(prefix={rule_prefix(rule)})'"
    return "'()'"


def _check_midnight(date: Any) -> None:
    if _timestamp(date) % DAY:
        raise invalid_argument("'Date' must be at midnight GMT", "Date", date)


def _check_order(rule: dict[str, Any], steps: list[dict[str, Any]], action: str, field: str) -> None:
    """Transitions of one rule go down the waterfall, each at least the warmer class's minimum
    storage duration after the one before (S3's "must be N days more than")."""
    where = _filter_text(rule)

    def when(step: dict[str, Any]) -> float:
        return _timestamp(step["Date"]) / DAY if step.get(field) is None else float(step[field])

    ordered = sorted(steps, key=lambda step: WATERFALL[step["StorageClass"]])
    for warm, cold in zip(ordered, ordered[1:]):
        name = field if warm.get(field) is not None else "Date"
        gap = when(cold) - when(warm)
        if gap <= 0:
            raise invalid_argument(
                f"'{name}' in the '{action}' action for StorageClass '{cold['StorageClass']}' for filter {where} "
                f"must be greater than '{name}' in the '{action}' action for StorageClass '{warm['StorageClass']}' "
                f"for filter {where}", name, cold.get(name))
        minimum = MIN_STORAGE_DAYS.get(warm["StorageClass"], 0)
        if gap < minimum:
            raise invalid_argument(
                f"'{name}' in the '{action}' action for StorageClass '{cold['StorageClass']}' for filter {where} "
                f"must be {minimum} days more than 'filter {where}' in the '{action}' action for StorageClass "
                f"'{warm['StorageClass']}'", name, cold.get(name))


def _validate_transitions(rule: dict[str, Any]) -> None:
    transitions = rule.get("Transitions") or []
    seen: set[str] = set()
    for step in transitions:
        cls = step.get("StorageClass")
        if cls not in TRANSITION_CLASSES or (step.get("Days") is None) == (step.get("Date") is None):
            raise MalformedXML()
        if cls in seen:
            raise InvalidRequest("'StorageClass' must be different for 'Transition' actions in same 'Rule' with "
                                 f"filter {_filter_text(rule)}")
        seen.add(cls)
        days = step.get("Days")
        if days is not None and days < 0:
            raise invalid_argument("'Days' in Transition action must be nonnegative", "Days", days)
        if days is not None and cls in INFREQUENT_ACCESS and days < 30:
            raise invalid_argument(
                f"'Days' in Transition action must be greater than or equal to 30 for storageClass '{cls}'",
                "Days", days)
        if step.get("Date") is not None:
            _check_midnight(step["Date"])
    exp = rule.get("Expiration") or {}
    if exp.get("Date") is not None:
        _check_midnight(exp["Date"])
    uses_days = exp.get("Days") is not None or any(s.get("Days") is not None for s in transitions)
    uses_date = exp.get("Date") is not None or any(s.get("Date") is not None for s in transitions)
    if uses_days and uses_date:
        raise InvalidRequest("Found mixed 'Date' and 'Days' based Expiration and Transition actions in "
                             f"lifecycle rule for filter {_filter_text(rule)}")
    _check_order(rule, transitions, "Transition", "Days")
    if exp.get("Days") is not None and any(exp["Days"] <= s["Days"] for s in transitions):
        raise invalid_argument(f"'Days' in the Expiration action for filter {_filter_text(rule)} must be greater "
                               "than 'Days' in the Transition action", "Days", exp["Days"])
    if exp.get("Date") is not None and any(_timestamp(exp["Date"]) <= _timestamp(s["Date"]) for s in transitions):
        raise invalid_argument(f"'Date' in the Expiration action for filter {_filter_text(rule)} must be greater "
                               "than 'Date' in the Transition action", "Date", exp["Date"])


def _validate_noncurrent_transitions(rule: dict[str, Any]) -> None:
    transitions = rule.get("NoncurrentVersionTransitions") or []
    seen: set[str] = set()
    for step in transitions:
        cls = step.get("StorageClass")
        if cls not in TRANSITION_CLASSES or step.get("NoncurrentDays") is None:
            raise MalformedXML()
        if cls in seen:
            raise InvalidRequest("'StorageClass' must be different for 'NoncurrentVersionTransition' actions in "
                                 f"same 'Rule' with filter {_filter_text(rule)}")
        seen.add(cls)
        days = step["NoncurrentDays"]
        if days < 0:
            raise invalid_argument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative",
                                   "NoncurrentDays", days)
        if cls in INFREQUENT_ACCESS and days < 30:
            raise invalid_argument(
                "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 "
                f"for storageClass '{cls}'", "NoncurrentDays", days)
    _check_order(rule, transitions, "NoncurrentVersionTransition", "NoncurrentDays")
    nc = rule.get("NoncurrentVersionExpiration") or {}
    if nc.get("NoncurrentDays") is not None and any(nc["NoncurrentDays"] <= s["NoncurrentDays"] for s in transitions):
        raise invalid_argument(
            f"'NoncurrentDays' in the NoncurrentVersionExpiration action for filter {_filter_text(rule)} must be "
            "greater than 'NoncurrentDays' in the NoncurrentVersionTransition action",
            "NoncurrentDays", nc["NoncurrentDays"])


def validate_rules(rules: list[dict[str, Any]], min_size: str | None = None) -> None:
    """Raise S3's error for a lifecycle configuration S3 refuses."""
    if not rules or len(rules) > 1000:
        raise MalformedXML()
    if min_size is not None and min_size not in MIN_SIZE_SETTINGS:
        raise invalid_argument("Invalid TransitionDefaultMinimumObjectSize found", "TransitionDefaultMinimumObjectSize",
                               min_size)
    ids = set()
    for rule in rules:
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise MalformedXML()
        rid = rule.get("ID")
        if rid is not None:
            if len(rid) > 255:
                raise invalid_argument("ID length should not exceed allowed limit of 255", "ID", rid)
            if rid in ids:
                raise invalid_argument("Rule ID must be unique. Found same ID for more than one rule", "ID", rid)
            ids.add(rid)
        if "Filter" not in rule and "Prefix" not in rule:
            raise MalformedXML()
        if not any(rule.get(a) for a in ACTIONS):
            raise invalid_argument("At least one action needs to be specified in a rule", "Action", None)
        exp = rule.get("Expiration") or {}
        if exp.get("Days") is not None and exp["Days"] <= 0:
            raise invalid_argument("'Days' for Expiration action must be a positive integer", "Days", exp["Days"])
        nc = rule.get("NoncurrentVersionExpiration") or {}
        if nc.get("NoncurrentDays") is not None and nc["NoncurrentDays"] <= 0:
            raise invalid_argument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
                                   "NoncurrentDays", nc["NoncurrentDays"])
        _validate_transitions(rule)
        _validate_noncurrent_transitions(rule)
