"""Whatever arrives, parsing ends in params or in the service's own error, never in a Python
exception (the gateway would turn that into a 500). Requests are fuzzed around real routes so they
get past routing and into the member and body readers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsemu.protocol.http import Headers, WireRequest
from awsemu.protocol.registry import codec_for
from awsemu.services.base import ServiceError

S3_TARGETS = [
    ("PUT", "/b", "tagging"), ("POST", "/b", "delete"), ("PUT", "/b", "acl"), ("PUT", "/b", "lifecycle"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u"), ("GET", "/b", "list-type=2"), ("POST", "/b/k", "uploadId=u"),
    ("PUT", "/b", ""), ("POST", "/b/k", "select&select-type=2"), ("GET", "/b/k", ""),
]
LAMBDA_TARGETS = [
    ("POST", "/2015-03-31/functions", ""), ("POST", "/2015-03-31/functions/f/invocations", ""),
    ("PUT", "/2015-03-31/functions/f/configuration", ""), ("GET", "/2015-03-31/functions", ""),
    ("POST", "/2017-03-31/tags/arn", ""), ("POST", "/2025-12-01/durable-execution-callbacks/c/fail", ""),
]
HEADER_NAMES = ["content-length", "x-amz-meta-a", "expires", "if-modified-since", "x-amz-copy-source",
                "x-amz-bucket-object-lock-enabled", "x-amz-object-lock-retain-until-date", "x-amz-log-type",
                "range", "x-amz-tagging-count", "x-amz-write-offset-bytes"]
QUERY_KEYS = ["max-keys", "partNumber", "uploadId", "MaxItems", "Marker", "prefix", "list-type", "versionId", "x-id"]

XMLISH = st.recursive(
    st.text(max_size=6),
    lambda inner: st.builds(lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>",
                            st.sampled_from(["Tagging", "TagSet", "Tag", "Key", "Value", "Delete", "Object",
                                             "Quiet", "Rules", "Rule", "Expiration", "Days", "Date", "Part",
                                             "PartNumber", "Grant", "Grantee", "Permission", "x"]),
                            st.lists(inner, max_size=3)),
    max_leaves=8,
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["FunctionName", "Role", "Code", "MemorySize", "Timeout", "Environment",
                                       "Variables", "Tags", "ZipFile", "ErrorMessage", "x"]), inner, max_size=4),
    max_leaves=8,
)


def _request(method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes) -> WireRequest:
    async def read() -> bytes:
        return body

    return WireRequest(method, path, query, Headers(headers), read_body=read)


def _check(glue: Any, service: str, method: str, path: str, query: str,
           headers: list[tuple[str, str]], body: bytes) -> None:
    codec = codec_for(service)
    try:
        glue.run(codec.parse(_request(method, path, query, headers, body)))
    except ServiceError as err:
        assert 400 <= err.status < 600
        response = codec.serialize_error(None, err, "r")
        assert response.status == err.status


fuzz_settings = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck),
                         derandomize=True)


@pytest.mark.parametrize("service,targets,bodies", [
    ("s3", S3_TARGETS, XMLISH.map(str.encode) | st.binary(max_size=40)),
    ("lambda", LAMBDA_TARGETS, JSONISH.map(lambda v: __import__("json").dumps(v).encode()) | st.binary(max_size=40)),
])
def test_parse_never_raises_anything_but_service_errors(glue: Any, service: str, targets: list[Any],
                                                        bodies: st.SearchStrategy[bytes]) -> None:
    @fuzz_settings
    @given(
        target=st.sampled_from(targets),
        extra_query=st.lists(st.tuples(st.sampled_from(QUERY_KEYS), st.text(max_size=4)), max_size=3),
        headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6)),
                         max_size=3),
        body=bodies,
        path_noise=st.sampled_from(["", "/", "//", "/%", "/%ZZ", "/%C3", "/x/y"]),
    )
    def check(target: tuple[str, str, str], extra_query: list[tuple[str, str]], headers: list[tuple[str, str]],
              body: bytes, path_noise: str) -> None:
        method, path, query = target
        q = "&".join([query] * bool(query) + [f"{k}={v}" for k, v in extra_query])
        _check(glue, service, method, path + path_noise, q, headers, body)

    check()
