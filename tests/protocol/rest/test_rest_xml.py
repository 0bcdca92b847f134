"""S3 over rest-xml: routing corner cases, streaming, S3's own errors, and response details that a
round trip through botocore cannot see (root names, namespace, empty bodies, request-id headers)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, AsyncIterator
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import pytest

from awsemu.protocol.http import Headers, WireRequest
from awsemu.protocol.registry import codec_for
from awsemu.protocol.rest_plans import query_multidict
from awsemu.protocol.rest_xml import MALFORMED_XML, RestXmlCodec
from awsemu.services.base import ServiceError

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@pytest.fixture(scope="module")
def s3() -> RestXmlCodec:
    codec = codec_for("s3")
    assert isinstance(codec, RestXmlCodec)
    return codec


def request(
    method: str,
    path: str,
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    *,
    host_bucket: str | None = None,
    stream: bool = False,
) -> WireRequest:
    async def read() -> bytes:
        return body

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    return WireRequest(
        method, path, query, Headers(headers or []), read_body=read,
        stream=chunks if stream else None, host_bucket=host_bucket,
    )


def parse(glue: Any, codec: RestXmlCodec, req: WireRequest) -> tuple[str, dict[str, Any]]:
    parsed = glue.run(codec.parse(req))
    return parsed.operation.name, parsed.params


def parse_error(glue: Any, codec: RestXmlCodec, req: WireRequest) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        glue.run(codec.parse(req))
    return info.value


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path,query,headers,expected",
    [
        ("PUT", "/b/k", "", [], "PutObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", [], "UploadPart"),
        ("PUT", "/b/k", "", [("x-amz-copy-source", "src/key")], "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", [("X-Amz-Copy-Source", "src/key")], "UploadPartCopy"),
        ("POST", "/b/k", "uploads", [], "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", [], "CompleteMultipartUpload"),
        ("GET", "/b/k", "uploadId=u", [], "ListParts"),
        ("GET", "/b/k", "", [], "GetObject"),
        ("GET", "/b/k", "x-id=GetObject", [], "GetObject"),
        ("GET", "/b", "", [], "ListObjects"),
        ("GET", "/b", "list-type=2", [], "ListObjectsV2"),
        ("GET", "/b", "uploads", [], "ListMultipartUploads"),
        ("GET", "/b", "versions", [], "ListObjectVersions"),
        ("GET", "/b", "versioning", [], "GetBucketVersioning"),
        ("GET", "/b", "acl", [], "GetBucketAcl"),
        ("GET", "/b/k", "acl", [], "GetObjectAcl"),
        ("GET", "/b", "location", [], "GetBucketLocation"),
        ("GET", "/b", "lifecycle", [], "GetBucketLifecycleConfiguration"),
        ("GET", "/b", "analytics", [], "ListBucketAnalyticsConfigurations"),
        ("GET", "/b", "analytics&id=x", [], "GetBucketAnalyticsConfiguration"),
        ("POST", "/b", "delete", [], "DeleteObjects"),
        ("PUT", "/b", "", [], "CreateBucket"),
        ("PUT", "/b/", "", [], "CreateBucket"),
        ("HEAD", "/b", "", [], "HeadBucket"),
        ("HEAD", "/b/k", "", [], "HeadObject"),
        ("DELETE", "/b/k", "uploadId=u", [], "AbortMultipartUpload"),
        ("DELETE", "/b/k", "", [], "DeleteObject"),
        ("GET", "/", "", [], "ListBuckets"),
        ("GET", "/", "max-directory-buckets=5", [], "ListDirectoryBuckets"),
        ("GET", "/", "x-id=ListDirectoryBuckets", [], "ListDirectoryBuckets"),
        ("POST", "/b/k", "select&select-type=2", [], "SelectObjectContent"),
        ("POST", "/WriteGetObjectResponse", "", [("x-amz-request-route", "r"), ("x-amz-request-token", "t")],
         "WriteGetObjectResponse"),
    ],
)
def test_routes(glue: Any, s3: RestXmlCodec, method: str, path: str, query: str,
                headers: list[tuple[str, str]], expected: str) -> None:
    found = s3.router.match(method, path, query_multidict(parse_qsl(query, keep_blank_values=True)),
                            Headers(headers))
    assert found is not None and found.route.operation.name == expected


@pytest.mark.parametrize(
    "raw_path,key",
    [
        ("/b/a/b/c", "a/b/c"),
        ("/b/dir/", "dir/"),
        ("/b/a//b", "a//b"),
        ("/b//", "/"),
        ("/b/a%2Fb", "a/b"),
        ("/b/sp%20ace+plus", "sp ace+plus"),
        ("/b/%E2%82%AC%3F%23", "€?#"),
        ("/b/..", ".."),
    ],
)
def test_keys_keep_slashes_and_decode(glue: Any, s3: RestXmlCodec, raw_path: str, key: str) -> None:
    name, params = parse(glue, s3, request("GET", raw_path))
    assert (name, params["Bucket"], params["Key"]) == ("GetObject", "b", key)


def test_virtual_host_bucket(glue: Any, s3: RestXmlCodec) -> None:
    name, params = parse(glue, s3, request("GET", "/dir//key/", host_bucket="my.bucket"))
    assert (name, params) == ("GetObject", {"Bucket": "my.bucket", "Key": "dir//key/"})
    name, params = parse(glue, s3, request("GET", "/", "list-type=2&prefix=a%2F", host_bucket="bkt"))
    assert (name, params) == ("ListObjectsV2", {"Bucket": "bkt", "Prefix": "a/"})
    req = request("PUT", "/", host_bucket="bkt")
    name, params = parse(glue, s3, req)
    assert (name, params) == ("CreateBucket", {"Bucket": "bkt"})
    assert req.raw_path == "/"  # the request itself is not rewritten


# --- parsing ----------------------------------------------------------------------------------


def test_put_object_streams_body_without_reading_it(glue: Any, s3: RestXmlCodec) -> None:
    async def never() -> bytes:
        raise AssertionError("the body of a streaming payload must not be read by the codec")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    req = WireRequest(
        "PUT", "/b/k", "", Headers([("Content-Length", "11"), ("x-amz-meta-Color", "blue"),
                                    ("x-amz-meta-size", "L"), ("Expires", "Wed, 21 Oct 2026 07:28:00 GMT")]),
        read_body=never, stream=chunks,
    )
    name, params = parse(glue, s3, req)
    assert name == "PutObject"
    assert params["ContentLength"] == 11
    assert params["Metadata"] == {"color": "blue", "size": "L"}
    assert params["Expires"] == datetime(2026, 10, 21, 7, 28, tzinfo=timezone.utc)
    assert glue.run(glue.collect(params["Body"])) == b"hello world"


def test_put_object_without_stream_gets_bytes(glue: Any, s3: RestXmlCodec) -> None:
    _, params = parse(glue, s3, request("PUT", "/b/k", body=b"abc"))
    assert params["Body"] == b"abc"


def test_xml_payload_with_lists_and_attributes(glue: Any, s3: RestXmlCodec) -> None:
    body = (
        f'<AccessControlPolicy xmlns="{NS}"><AccessControlList>'
        '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
        "<ID>abc</ID></Grantee><Permission>READ</Permission></Grant>"
        '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">'
        "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>WRITE</Permission></Grant>"
        "</AccessControlList><Owner><ID>o</ID></Owner></AccessControlPolicy>"
    ).encode()
    name, params = parse(glue, s3, request("PUT", "/b", "acl", body=body))
    assert name == "PutBucketAcl"
    assert params["AccessControlPolicy"] == {
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
             "Permission": "WRITE"},
        ],
        "Owner": {"ID": "o"},
    }


def test_flattened_list_in_delete_objects(glue: Any, s3: RestXmlCodec) -> None:
    body = (f'<Delete xmlns="{NS}"><Object><Key>a</Key></Object><Object><Key>b</Key>'
            "<VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>").encode()
    _, params = parse(glue, s3, request("POST", "/b", "delete", body=body))
    assert params["Delete"] == {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}], "Quiet": True}


@pytest.mark.parametrize("body", [b"<Tagging><TagSet>", b"not xml", b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging><x/>"])
def test_malformed_xml(glue: Any, s3: RestXmlCodec, body: bytes) -> None:
    err = parse_error(glue, s3, request("PUT", "/b", "tagging", body=body))
    assert (err.code, err.status, err.message) == ("MalformedXML", 400, MALFORMED_XML)


def test_bad_types_inside_xml_are_malformed(glue: Any, s3: RestXmlCodec) -> None:
    body = f'<Delete xmlns="{NS}"><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>'.encode()
    err = parse_error(glue, s3, request("POST", "/b", "delete", body=body))
    assert err.code == "MalformedXML"


def test_missing_required_body(glue: Any, s3: RestXmlCodec) -> None:
    err = parse_error(glue, s3, request("PUT", "/b", "tagging"))
    assert (err.code, err.status) == ("MissingRequestBodyError", 400)


@pytest.mark.parametrize(
    "query,headers,arg",
    [
        ("list-type=2&max-keys=ten", [], "max-keys"),
        ("list-type=2&max-keys=99999999999999999999x", [], "max-keys"),
        ("list-type=2", [("x-amz-optional-object-attributes", "RestoreStatus")], None),
    ],
)
def test_integer_validation(glue: Any, s3: RestXmlCodec, query: str, headers: list[tuple[str, str]],
                            arg: str | None) -> None:
    req = request("GET", "/b", query, headers)
    if arg is None:
        assert parse(glue, s3, req)[0] == "ListObjectsV2"
        return
    err = parse_error(glue, s3, req)
    assert (err.code, err.status) == ("InvalidArgument", 400)
    assert err.fields["ArgumentName"] == arg
    assert "not an integer" in err.message


def test_bad_header_types(glue: Any, s3: RestXmlCodec) -> None:
    err = parse_error(glue, s3, request("PUT", "/b/k", headers=[("Content-Length", "abc")]))
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "content-length")
    err = parse_error(glue, s3, request("PUT", "/b", headers=[("x-amz-bucket-object-lock-enabled", "yes")]))
    assert err.code == "InvalidArgument"


def test_empty_integer_query_means_absent(glue: Any, s3: RestXmlCodec) -> None:
    assert parse(glue, s3, request("GET", "/b", "list-type=2&max-keys="))[1] == {"Bucket": "b"}


def test_unknown_routes(glue: Any, s3: RestXmlCodec) -> None:
    err = parse_error(glue, s3, request("PATCH", "/b/k"))
    assert (err.code, err.status) == ("MethodNotAllowed", 405)
    assert err.fields == {"Method": "PATCH", "ResourceType": "OBJECT"}
    err = parse_error(glue, s3, request("POST", "/"))
    assert (err.code, err.status) == ("MethodNotAllowed", 405)
    err = parse_error(glue, s3, request("POST", "/b/k"))
    assert (err.code, err.status) == ("NotImplemented", 501)
    assert err.message == "A header you provided implies functionality that is not implemented"


# --- serializing ------------------------------------------------------------------------------


def _root(body: bytes) -> ElementTree.Element:
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    return ElementTree.fromstring(body)


@pytest.mark.parametrize(
    "operation,output,root",
    [
        ("ListObjectsV2", {"Name": "b", "KeyCount": 0}, "ListBucketResult"),
        ("ListObjects", {"Name": "b"}, "ListBucketResult"),
        ("ListBuckets", {"Buckets": [{"Name": "b"}]}, "ListAllMyBucketsResult"),
        ("CreateMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u"}, "InitiateMultipartUploadResult"),
        ("CompleteMultipartUpload", {"Bucket": "b", "Key": "k", "ETag": '"e"'}, "CompleteMultipartUploadResult"),
        ("CopyObject", {"CopyObjectResult": {"ETag": '"e"'}}, "CopyObjectResult"),
        ("UploadPartCopy", {"CopyPartResult": {"ETag": '"e"'}}, "CopyPartResult"),
        ("ListObjectVersions", {"Name": "b"}, "ListVersionsResult"),
        ("ListMultipartUploads", {"Bucket": "b"}, "ListMultipartUploadsResult"),
        ("ListParts", {"Bucket": "b"}, "ListPartsResult"),
        ("DeleteObjects", {"Deleted": [{"Key": "k"}]}, "DeleteResult"),
        ("GetBucketTagging", {"TagSet": [{"Key": "a", "Value": "b"}]}, "Tagging"),
        ("GetBucketVersioning", {"Status": "Enabled"}, "VersioningConfiguration"),
        ("GetBucketAcl", {"Owner": {"ID": "o"}}, "AccessControlPolicy"),
        ("GetBucketEncryption", {"ServerSideEncryptionConfiguration": {"Rules": []}},
         "ServerSideEncryptionConfiguration"),
        ("GetObjectAttributes", {"ETag": "e"}, "GetObjectAttributesResponse"),
        ("GetBucketLocation", {"LocationConstraint": "eu-west-1"}, "LocationConstraint"),
    ],
)
def test_root_element_and_namespace(s3: RestXmlCodec, operation: str, output: dict[str, Any], root: str) -> None:
    op = s3.service_model.operation_model(operation)
    resp = s3.serialize(op, output, "rid")
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/xml"
    assert resp.header("x-amz-request-id") == "rid"
    assert resp.header("x-amz-id-2")
    assert isinstance(resp.body, bytes)
    assert _root(resp.body).tag == f"{{{NS}}}{root}"


def test_get_bucket_location_is_bare_text(s3: RestXmlCodec) -> None:
    op = s3.service_model.operation_model("GetBucketLocation")
    body = s3.serialize(op, {"LocationConstraint": "eu-west-1"}, "r").body
    assert body.endswith(f'<LocationConstraint xmlns="{NS}">eu-west-1</LocationConstraint>'.encode())
    empty = s3.serialize(op, {}, "r").body
    assert empty.endswith(f'<LocationConstraint xmlns="{NS}"></LocationConstraint>'.encode())


def test_listing_document(s3: RestXmlCodec) -> None:
    op = s3.service_model.operation_model("ListObjectsV2")
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    output = {
        "IsTruncated": False, "Name": "b", "KeyCount": 1, "MaxKeys": 1000,
        "Contents": [{"Key": "a&<b>", "LastModified": when, "ETag": '"x"', "Size": 3, "StorageClass": "STANDARD"}],
        "CommonPrefixes": [{"Prefix": "p/"}, {"Prefix": "q/"}],
    }
    body = s3.serialize(op, output, "r").body
    assert isinstance(body, bytes)
    text = body.decode()
    assert "<Contents><Key>a&amp;&lt;b&gt;</Key><LastModified>2026-01-02T03:04:05.678Z</LastModified>" in text
    assert "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>q/</Prefix></CommonPrefixes>" in text
    assert "<IsTruncated>false</IsTruncated>" in text


def test_get_object_headers_and_streaming_body(glue: Any, s3: RestXmlCodec) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"data"

    stream = body()
    op = s3.service_model.operation_model("GetObject")
    resp = s3.serialize(op, {
        "Body": stream, "ContentLength": 4, "ContentType": "text/plain", "ETag": '"e"',
        "LastModified": datetime(2026, 11, 27, 11, 13, 40, tzinfo=timezone.utc),
        "Metadata": {"color": "blue"}, "DeleteMarker": False, "TagCount": 2,
        "ObjectLockRetainUntilDate": datetime(2027, 1, 1, tzinfo=timezone.utc),
    }, "r")
    assert resp.body is stream  # passed through untouched
    assert resp.header("Last-Modified") == "Fri, 27 Nov 2026 11:13:40 GMT"
    assert resp.header("Content-Type") == "text/plain"
    assert resp.header("Content-Length") == "4"
    assert resp.header("x-amz-meta-color") == "blue"
    assert resp.header("x-amz-delete-marker") == "false"
    assert resp.header("x-amz-tagging-count") == "2"
    assert resp.header("x-amz-object-lock-retain-until-date") == "2027-01-01T00:00:00.000Z"
    assert resp.status == 200
    partial = s3.serialize(op, {"Body": b"da", "ContentRange": "bytes 0-1/4"}, "r")
    assert (partial.body, partial.header("Content-Range")) == (b"da", "bytes 0-1/4")


def test_empty_bodies(s3: RestXmlCodec) -> None:
    head = s3.serialize(s3.service_model.operation_model("HeadObject"), {"ContentLength": 10, "ETag": '"e"'}, "r")
    assert (head.status, head.body, head.header("Content-Length")) == (200, b"", "10")
    delete = s3.serialize(s3.service_model.operation_model("DeleteObject"), {"VersionId": "v"}, "r")
    assert (delete.status, delete.body, delete.header("x-amz-version-id")) == (204, b"", "v")
    put = s3.serialize(s3.service_model.operation_model("PutBucketTagging"), {}, "r")
    assert (put.status, put.body) == (200, b"")
    assert put.header("Content-Type") is None


# --- errors -----------------------------------------------------------------------------------


def test_error_document(glue: Any, s3: RestXmlCodec) -> None:
    err = ServiceError("The specified key does not exist.", code="NoSuchKey", status=404,
                       fields={"Key": "a<b", "BucketName": "b"}, headers={"x-amz-delete-marker": "true"})
    resp = s3.serialize_error(s3.service_model.operation_model("GetObject"), err, "rid")
    assert resp.status == 404
    assert resp.header("Content-Type") == "application/xml"
    assert resp.header("x-amz-delete-marker") == "true"
    assert resp.header("x-amz-request-id") == "rid"
    assert isinstance(resp.body, bytes)
    assert resp.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>')
    root = ElementTree.fromstring(resp.body)
    assert root.tag == "Error"  # no namespace on errors
    assert [c.tag for c in root] == ["Code", "Message", "Key", "BucketName", "RequestId", "HostId"]
    assert root.findtext("Key") == "a<b"
    assert root.findtext("HostId") == resp.header("x-amz-id-2")
    parsed = glue.botocore_parse("s3", "GetObject", resp)
    assert parsed["Error"] == {"Code": "NoSuchKey", "Message": "The specified key does not exist.",
                               "Key": "a<b", "BucketName": "b"}
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_head_errors_have_no_body(s3: RestXmlCodec) -> None:
    err = ServiceError("Not Found", code="NoSuchKey", status=404)
    resp = s3.serialize_error(s3.service_model.operation_model("HeadObject"), err, "rid")
    assert (resp.status, resp.body) == (404, b"")
    assert resp.header("x-amz-request-id") == "rid"


def test_error_without_operation(s3: RestXmlCodec) -> None:
    resp = s3.serialize_error(None, ServiceError("m", code="MethodNotAllowed", status=405,
                                                 fields={"Method": "PATCH"}), "r")
    assert resp.status == 405
    assert b"<Method>PATCH</Method>" in resp.body  # type: ignore[operator]


def test_event_stream_output_passes_through(s3: RestXmlCodec) -> None:
    async def frames() -> AsyncIterator[bytes]:
        yield b"\x00\x00\x00\x10"

    stream = frames()
    resp = s3.serialize(s3.service_model.operation_model("SelectObjectContent"), {"Payload": stream}, "r")
    assert (resp.status, resp.body is stream) == (200, True)


def test_unescaped_utf8_path_from_asgi(glue: Any, s3: RestXmlCodec) -> None:
    raw = "/b/caf\u00e9 \u20ac".encode().decode("latin-1")  # what the gateway hands over
    _, params = parse(glue, s3, request("GET", raw))
    assert params["Key"] == "caf\u00e9 \u20ac"


@pytest.mark.parametrize("value", ["1_000", "²", "2147483648", "-2147483649", "1.5", ""])
def test_integer_query_must_be_plain_int32(glue: Any, s3: RestXmlCodec, value: str) -> None:
    req = request("GET", "/b", f"list-type=2&max-keys={value}")
    if value == "":
        assert "MaxKeys" not in parse(glue, s3, req)[1]
        return
    assert parse_error(glue, s3, req).code == "InvalidArgument"
    assert parse(glue, s3, request("GET", "/b", "list-type=2&max-keys=2147483647"))[1]["MaxKeys"] == 2**31 - 1
