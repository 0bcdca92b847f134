"""Which bucket a Host names (virtual-hosted S3) and which hosts stay path-style: the rule on its
own, then through a real server with plain HTTP requests carrying explicit Host headers (names
such as ``b.s3.localhost.localstack.cloud`` do not resolve here, so the connection goes to
127.0.0.1 and only the Host header says where it was meant to go), and through boto3's own
virtual-hosted addressing."""

from __future__ import annotations

import http.client
import uuid
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree

import pytest
from botocore.config import Config as BotoConfig

from awsemu.gateway.service_router import host_bucket, resolve
from awsemu.protocol.http import Headers, WireRequest
from awsemu.testing.plugin import make_client

URL_ID = "abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, the shape of a function URL id


@pytest.mark.parametrize(("host", "bucket"), [
    # AWS's forms win over <bucket>.localhost
    ("mybucket.s3.localhost:4566", "mybucket"),
    ("mybucket.s3.localhost", "mybucket"),
    ("my.dotted.bucket.s3.localhost", "my.dotted.bucket"),
    ("my.dotted.bucket.s3.localhost:4566", "my.dotted.bucket"),
    ("mybucket.s3.localhost.localstack.cloud:4566", "mybucket"),
    ("mybucket.s3.amazonaws.com", "mybucket"),
    ("mybucket.s3.us-east-1.amazonaws.com", "mybucket"),
    ("mybucket.s3.eu-west-1.localhost.localstack.cloud:4566", "mybucket"),
    ("mybucket.s3-us-west-2.amazonaws.com", "mybucket"),
    ("mybucket.s3-external-1.amazonaws.com", "mybucket"),
    ("mybucket.s3.dualstack.ap-southeast-2.amazonaws.com", "mybucket"),
    ("mybucket.s3-accelerate.amazonaws.com", "mybucket"),
    ("mybucket.s3-accelerate.dualstack.amazonaws.com", "mybucket"),
    ("mybucket.s3-fips.us-gov-west-1.amazonaws.com", "mybucket"),
    ("mybucket.s3-website-us-east-1.amazonaws.com", "mybucket"),
    ("mybucket.s3-website.eu-central-1.amazonaws.com", "mybucket"),
    ("mybucket--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com", "mybucket--usw2-az1--x-s3"),
    ("MyBucket.S3.LocalHost:4566", "mybucket"),  # host names are case-insensitive
    # a dotted bucket whose own labels look like S3's: the last S3 label splits
    ("logs.s3.backup.s3.amazonaws.com", "logs.s3.backup"),
    ("data.s3-archive.s3.us-east-1.amazonaws.com", "data.s3-archive"),
    ("s3-data.s3.localhost", "s3-data"),
    # <bucket>.localhost only when no S3 label applies
    ("mybucket.localhost:4566", "mybucket"),
    ("mybucket.localhost", "mybucket"),
    ("my.dotted.bucket.localhost:4566", "my.dotted.bucket"),
    ("my-s3-bucket.localhost", "my-s3-bucket"),
    ("s3-bucket.localhost", "s3-bucket"),
    ("logs.s3-archive.localhost", "logs.s3-archive"),  # s3-archive is no S3 endpoint label
    # the S3 endpoint itself: path-style
    ("s3.localhost", None),
    ("s3.localhost:4566", None),
    ("s3-us-east-1.localhost", None),
    ("localhost", None),
    ("localhost:4566", None),
    ("127.0.0.1:4566", None),
    ("[::1]:4566", None),
    ("s3.amazonaws.com", None),
    ("s3.us-east-1.amazonaws.com", None),
    ("s3-us-west-2.amazonaws.com", None),
    ("s3.dualstack.us-east-1.amazonaws.com", None),
    ("s3.localhost.localstack.cloud:4566", None),
    ("s3.us-east-1.localhost.localstack.cloud:4566", None),
    # other services' hosts name no bucket
    ("sqs.us-east-1.localhost.localstack.cloud:4566", None),
    ("dynamodb.us-east-1.amazonaws.com", None),
    (f"{URL_ID}.lambda-url.us-east-1.localhost:4566", None),
    (f"{URL_ID}.lambda-url.us-east-1.on.aws", None),
    # not a bucket name, not a port
    ("my_bucket.s3.localhost", None),
    ("mybucket.localhost:abc", None),
])
def test_host_bucket(host: str, bucket: str | None) -> None:
    assert host_bucket(host) == bucket


def _unsigned(method: str, host: str, path: str = "/", headers: dict[str, str] | None = None) -> WireRequest:
    return WireRequest(method=method, raw_path=path, query_string="",
                       headers=Headers([("host", host), *(headers or {}).items()]))


def test_resolve_picks_s3_by_host_and_leaves_other_services_alone() -> None:
    route = resolve(_unsigned("GET", "mybucket.s3.localhost:4566", "/key"), "", None)
    assert route is not None and (route.service, route.host_bucket) == ("s3", "mybucket")
    route = resolve(_unsigned("GET", "mybucket.s3.localhost:4566", "/key"), "s3", None)  # signed for s3
    assert route is not None and (route.service, route.host_bucket) == ("s3", "mybucket")
    route = resolve(_unsigned("GET", "s3.localhost:4566", "/mybucket/key"), "", None)
    assert route is not None and (route.service, route.host_bucket) == ("s3", None)
    # a signed request of another service is routed by its signature, whatever the host
    route = resolve(_unsigned("POST", "mybucket.s3.localhost:4566", "/"), "sqs", None)
    assert route is not None and (route.service, route.host_bucket) == ("sqs", None)
    # X-Amz-Target and Lambda's dated paths still decide on an unsigned request
    route = resolve(_unsigned("POST", "localhost:4566", "/", {"x-amz-target": "DynamoDB_20120810.ListTables"}), "",
                    None)
    assert route is not None and route.service == "dynamodb"
    route = resolve(_unsigned("GET", "lambda.us-east-1.localhost.localstack.cloud:4566", "/2015-03-31/functions/"),
                    "", None)
    assert route is not None and route.service == "lambda"


# --- through a real server ----------------------------------------------------------------------


def _http(endpoint: str, method: str, path: str, host: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request to the server with ``host`` as its Host header."""
    parts = urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _listed_keys(body: bytes) -> tuple[str, list[str]]:
    root = ElementTree.fromstring(body)
    ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    return root.findtext("s3:Name", namespaces=ns) or "", [e.text or "" for e in root.findall("s3:Contents/s3:Key",
                                                                                                namespaces=ns)]


@pytest.fixture
def port(aws_endpoint_url: str) -> int:
    return urlsplit(aws_endpoint_url).port or 80


def test_aws_style_hosts_name_the_bucket_on_a_real_server(aws_client: Callable[..., Any], aws_endpoint_url: str,
                                                          port: int) -> None:
    s3 = aws_client("s3")
    tag = uuid.uuid4().hex[:12]
    plain, dotted = f"vh-{tag}", f"vh.dotted.{tag}"
    for bucket in (plain, dotted):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="dir/v.txt", Body=bucket.encode())
    hosts = {
        plain: [f"{plain}.s3.localhost:{port}", f"{plain}.s3.localhost", f"{plain}.s3.localhost.localstack.cloud:{port}",
                f"{plain}.s3.us-east-1.amazonaws.com", f"{plain}.s3-us-west-2.amazonaws.com",
                f"{plain}.s3.dualstack.eu-west-1.amazonaws.com", f"{plain}.localhost:{port}"],
        dotted: [f"{dotted}.s3.localhost:{port}", f"{dotted}.s3.localhost", f"{dotted}.localhost:{port}"],
    }
    for bucket, names in hosts.items():
        for host in names:
            status, _, body = _http(aws_endpoint_url, "GET", "/dir/v.txt", host)
            assert (status, body) == (200, bucket.encode()), host
            status, _, body = _http(aws_endpoint_url, "GET", "/?list-type=2", host)
            assert status == 200 and _listed_keys(body) == (bucket, ["dir/v.txt"]), host
    # a write through a virtual host lands in the bucket the host names
    status, headers, _ = _http(aws_endpoint_url, "PUT", "/written.txt", f"{dotted}.s3.localhost:{port}", b"via host")
    assert status == 200 and headers["etag"]
    assert s3.get_object(Bucket=dotted, Key="written.txt")["Body"].read() == b"via host"


def test_browser_form_upload_to_a_bucket_host(aws_client: Callable[..., Any], aws_endpoint_url: str,
                                              port: int) -> None:
    """A browser posts its form to ``https://<bucket>.s3.amazonaws.com/``: the host names the bucket."""
    s3 = aws_client("s3")
    bucket = f"form.{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    boundary = uuid.uuid4().hex
    form = (f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nup/${{filename}}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\n'
            f"posted\r\n--{boundary}--\r\n").encode()
    status, _, answer = _http(aws_endpoint_url, "POST", "/", f"{bucket}.s3.localhost:{port}", form,
                              {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 204, answer
    assert s3.get_object(Bucket=bucket, Key="up/f.txt")["Body"].read() == b"posted"


def test_endpoint_hosts_stay_path_style_on_a_real_server(aws_client: Callable[..., Any], aws_endpoint_url: str,
                                                         port: int) -> None:
    s3 = aws_client("s3")
    bucket = f"ps-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"path style")
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"s3.localhost:{port}", "s3.localhost",
                 "s3.amazonaws.com", "s3.us-east-1.amazonaws.com", f"s3.localhost.localstack.cloud:{port}"):
        status, _, body = _http(aws_endpoint_url, "GET", f"/{bucket}/k", host)
        assert (status, body) == (200, b"path style"), host
    # a bucket-looking first label on a host with no bucket: the path names it, not the host
    status, _, body = _http(aws_endpoint_url, "GET", "/", f"s3.localhost:{port}")
    assert status == 200 and b"<ListAllMyBucketsResult" in body and f"<Name>{bucket}</Name>".encode() in body


def test_unknown_bucket_named_by_the_host_is_no_such_bucket(aws_endpoint_url: str, port: int) -> None:
    missing = f"none-{uuid.uuid4().hex[:12]}"
    status, _, body = _http(aws_endpoint_url, "GET", "/k", f"{missing}.s3.localhost:{port}")
    root = ElementTree.fromstring(body)
    # the whole first label group is the bucket: not "<missing>.s3"
    assert (status, root.findtext("Code"), root.findtext("BucketName")) == (404, "NoSuchBucket", missing)


def test_function_url_host_is_not_read_as_a_bucket(aws_endpoint_url: str, port: int) -> None:
    status, headers, body = _http(aws_endpoint_url, "GET", "/", f"{URL_ID}.lambda-url.us-east-1.localhost:{port}")
    assert headers.get("content-type", "").startswith("application/json"), (status, body)
    assert not body.startswith(b"<?xml")


def test_boto3_virtual_hosted_addressing(aws_endpoint_url: str) -> None:
    """boto3 with ``addressing_style: virtual`` sends ``Host: <bucket>.s3.localhost.localstack.cloud``;
    the connection itself is pointed at the server (that name does not resolve here)."""
    port = urlsplit(aws_endpoint_url).port
    s3 = make_client(f"http://s3.localhost.localstack.cloud:{port}", "s3",
                     config=BotoConfig(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
    seen: list[str] = []

    def to_local_server(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        seen.append(parts.netloc)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))

    s3.meta.events.register("before-send.s3", to_local_server)
    bucket = f"vb.{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"virtual boto3")
    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"virtual boto3"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["a/b.txt"]
    s3.delete_object(Bucket=bucket, Key="a/b.txt")
    s3.delete_bucket(Bucket=bucket)
    assert f"{bucket}.s3.localhost.localstack.cloud:{port}" in seen  # the requests really were virtual-hosted
