"""A refused CORS preflight names the resource it addressed: ResourceType BUCKET for ``/bucket``,
OBJECT for ``/bucket/key`` (path-style or virtual-hosted); a bucket without CORS rules is BUCKET."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest

ORIGIN = "https://app.example.com"


def _preflight(url: str, host: str | None = None) -> tuple[int, str]:
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}
    if host:
        headers["Host"] = host
    request = urllib.request.Request(url, method="OPTIONS", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _fields(body: str) -> tuple[str, str, str]:
    def field(name: str) -> str:
        found = re.search(f"<{name}>(.*?)</{name}>", body)
        assert found, body
        return found.group(1)

    return field("Code"), field("Method"), field("ResourceType")


@pytest.mark.parametrize("path,resource", [("", "BUCKET"), ("/", "BUCKET"), ("/some/key.txt", "OBJECT")])
def test_refused_preflight_resource_type(s3: Any, bucket: str, aws_endpoint_url: str, path: str,
                                         resource: str) -> None:
    status, body = _preflight(f"{aws_endpoint_url}/{bucket}{path}")
    assert (status, _fields(body)) == (403, ("AccessForbidden", "DELETE", "BUCKET"))  # no CORS rules yet
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"]}]})
    status, body = _preflight(f"{aws_endpoint_url}/{bucket}{path}")
    assert (status, _fields(body)) == (403, ("AccessForbidden", "DELETE", resource))


def test_refused_preflight_resource_type_virtual_hosted(s3: Any, bucket: str, aws_endpoint_url: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"]}]})
    host = f"{bucket}.localhost:{urlsplit(aws_endpoint_url).port}"
    assert _fields(_preflight(f"{aws_endpoint_url}/", host)[1])[2] == "BUCKET"
    assert _fields(_preflight(f"{aws_endpoint_url}/key", host)[1])[2] == "OBJECT"
