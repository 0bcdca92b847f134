"""CORS for S3 buckets, as pure functions of the bucket's CORS rules and the request.

The gateway owns HTTP, so it calls these (through ``S3Provider.cors_preflight`` and
``S3Provider.cors_headers``): an ``OPTIONS`` request to a bucket or object is a preflight,
answered 200 with the headers of the first matching rule or 403 ``AccessForbidden``; a real
request carrying ``Origin`` gets the matching rule's headers added to its response, whatever its
outcome. Matching follows the S3 user guide ("How does Amazon S3 evaluate the CORS
configuration on a bucket?"): the first rule whose AllowedOrigins match the Origin (one ``*``
wildcard allowed), whose AllowedMethods contain the method, and (preflight) whose AllowedHeaders
match every requested header, case-insensitively.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from awsemu.services.s3.errors import S3Error

NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)


def _wildcard(pattern: str, value: str) -> bool:
    if "*" not in pattern:
        return pattern == value
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), value) is not None


def _headers_match(allowed: list[str], requested: list[str]) -> bool:
    patterns = [a.lower() for a in allowed]
    return all(any(fnmatch.fnmatchcase(h.lower(), p) if "*" in p else h.lower() == p for p in patterns)
               for h in requested)


def split_header_list(value: str | None) -> list[str]:
    return [h.strip() for h in (value or "").split(",") if h.strip()]


def match_rule(rules: list[dict[str, Any]], origin: str, method: str, requested: list[str]) -> dict[str, Any] | None:
    for rule in rules:
        if not any(_wildcard(o, origin) for o in rule.get("AllowedOrigins") or []):
            continue
        if method not in (rule.get("AllowedMethods") or []):
            continue
        if requested and not _headers_match(rule.get("AllowedHeaders") or [], requested):
            continue
        return rule
    return None


def rule_headers(rule: dict[str, Any], origin: str, requested: list[str], preflight: bool) -> dict[str, str]:
    any_origin = "*" in (rule.get("AllowedOrigins") or [])
    headers = {
        "Access-Control-Allow-Origin": "*" if any_origin else origin,
        "Access-Control-Allow-Methods": ", ".join(rule.get("AllowedMethods") or []),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    if not any_origin:
        headers["Access-Control-Allow-Credentials"] = "true"
    if preflight and requested:
        headers["Access-Control-Allow-Headers"] = ", ".join(h.lower() for h in requested)
    if rule.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        headers["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return headers


def preflight(config: dict[str, Any] | None, origin: str | None, method: str | None,
              request_headers: str | None, *, on_object: bool = True) -> dict[str, str]:
    """Headers of a 200 answer to a preflight, or the S3Error to answer instead.

    ``on_object``: whether the preflight addresses an object (``/bucket/key``) rather than the
    bucket. S3 names the resource in a refusal's ResourceType: OBJECT or BUCKET after the path
    when no rule allows the request, but always BUCKET when the bucket has no CORS rules at all.
    """
    if not origin:
        raise S3Error("Insufficient information. Origin request header needed.", code="BadRequest", status=400)
    if not method:
        raise S3Error("Invalid Access-Control-Request-Method: null", code="BadRequest", status=400)
    if not config or not config.get("CORSRules"):
        raise S3Error(NOT_ENABLED, code="AccessForbidden", status=403,
                      fields={"Method": method, "ResourceType": "BUCKET"})
    requested = split_header_list(request_headers)
    rule = match_rule(config["CORSRules"], origin, method, requested)
    if rule is None:
        raise S3Error(NOT_ALLOWED, code="AccessForbidden", status=403,
                      fields={"Method": method, "ResourceType": "OBJECT" if on_object else "BUCKET"})
    return rule_headers(rule, origin, requested, preflight=True)


def response_headers(config: dict[str, Any] | None, origin: str | None, method: str) -> dict[str, str]:
    """CORS headers to add to a real (non-preflight) response; empty when nothing matches."""
    if not origin or not config or not config.get("CORSRules"):
        return {}
    rule = match_rule(config["CORSRules"], origin, method, [])
    return rule_headers(rule, origin, [], preflight=False) if rule is not None else {}
