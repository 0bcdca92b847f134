"""The compiled URI-template router on its own: template rules, ranking, and the sibling groups the
models leave ambiguous (a guard for botocore upgrades: a new ambiguity must be looked at)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from awsemu.protocol.http import Headers
from awsemu.protocol.models import service_model
from awsemu.protocol.rest_router import RestRouter, _compile_template


def test_template_rules() -> None:
    regex, labels, greedy = _compile_template("/{Bucket}/{Key+}")
    assert greedy and [m for _, m in labels] == ["Bucket", "Key"]
    m = regex.match("/b/a//c/")
    assert m is not None and m.group("g1") == "a//c/"
    assert regex.match("/b/") is None  # a greedy label needs one character
    regex, _, greedy = _compile_template("/{Bucket}")
    assert not greedy
    assert regex.match("/b") and regex.match("/b/") and not regex.match("/b/k")
    regex, _, _ = _compile_template("/2015-03-31/functions/{FunctionName}/aliases")
    assert regex.match("/2015-03-31/functions/f/aliases/")
    assert not regex.match("/2015-03-31/functions/a/b/aliases")


@pytest.fixture(scope="module")
def s3_router() -> RestRouter:
    return RestRouter(service_model("s3"))


def test_x_id_hint_only_when_it_fits(s3_router: RestRouter) -> None:
    # x-id naming an operation of another method or path is ignored
    found = s3_router.match("GET", "/b/k", {"x-id": ["PutObject"]}, Headers())
    assert found is not None and found.route.operation.name == "GetObject"
    found = s3_router.match("GET", "/b/k", {"x-id": ["NoSuchOperation"]}, Headers())
    assert found is not None and found.route.operation.name == "GetObject"


def test_literal_query_values_must_match(s3_router: RestRouter) -> None:
    found = s3_router.match("GET", "/b", {"list-type": ["1"]}, Headers())
    assert found is not None and found.route.operation.name == "ListObjects"


def test_methods_for_path(s3_router: RestRouter) -> None:
    assert s3_router.methods_for_path("/") == ["GET"]
    assert s3_router.methods_for_path("/b/k") == ["DELETE", "GET", "HEAD", "POST", "PUT"]


def _wire_identical_groups(service: str) -> list[set[str]]:
    router = RestRouter(service_model(service))
    groups: dict[tuple[object, ...], set[str]] = defaultdict(set)
    for r in router.routes:
        key = (r.method, r.template.partition("?")[0], r.literal_query, r.required_query, r.required_headers)
        groups[key].add(r.operation.name)
    return sorted((g for g in groups.values() if len(g) > 1), key=sorted)


def test_known_ambiguities_only() -> None:
    assert _wire_identical_groups("s3") == [
        {"GetBucketLifecycle", "GetBucketLifecycleConfiguration"},  # deprecated: loses the tie
        {"GetBucketNotification", "GetBucketNotificationConfiguration"},  # deprecated
        {"ListBuckets", "ListDirectoryBuckets"},  # query keys, x-id, then patch priority
        {"PutBucketLifecycle", "PutBucketLifecycleConfiguration"},  # deprecated
        {"PutBucketNotification", "PutBucketNotificationConfiguration"},  # deprecated
    ]
    assert _wire_identical_groups("lambda") == []
