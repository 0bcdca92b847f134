"""Function URL event building and response mapping (function_url_http.py), as pure functions."""

from __future__ import annotations

import base64
import json

from awsemu.services.lambda_.function_url_http import UrlRequest, build_event, http_response

HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"


def _request(**overrides: object) -> UrlRequest:
    params: dict[str, object] = {
        "method": "GET", "raw_path": "/p", "query_string": "", "body": b"", "source_ip": "10.0.0.1",
        "headers": [("Host", HOST), ("User-Agent", "ua"), ("X-Multi", "a"), ("X-Multi", "b")],
    }
    params.update(overrides)
    return UrlRequest(**params)  # type: ignore[arg-type]


def test_event_without_body_or_query() -> None:
    event = build_event(_request(), "000000000000", "NONE")
    assert event["version"] == "2.0" and event["rawPath"] == "/p" and event["rawQueryString"] == ""
    assert "queryStringParameters" not in event and "body" not in event and event["isBase64Encoded"] is False
    assert event["headers"]["x-multi"] == "a,b" and event["headers"]["host"] == HOST
    context = event["requestContext"]
    assert context["domainName"] == HOST and context["apiId"] == HOST.split(".")[0]
    assert context["http"] == {"method": "GET", "path": "/p", "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1",
                               "userAgent": "ua"}
    assert context["accountId"] == "anonymous"
    assert build_event(_request(), "123456789012", "AWS_IAM")["requestContext"]["accountId"] == "123456789012"


def test_text_bodies_stay_text_and_binary_ones_are_base64() -> None:
    text = build_event(_request(body=b"a=1", headers=[("content-type", "application/x-www-form-urlencoded")]),
                       "0", "NONE")
    assert text["body"] == "a=1" and text["isBase64Encoded"] is False
    binary = build_event(_request(body=b"\xff\x00", headers=[("content-type", "image/png")]), "0", "NONE")
    assert base64.b64decode(binary["body"]) == b"\xff\x00" and binary["isBase64Encoded"] is True
    untyped = build_event(_request(body=b"x", headers=[]), "0", "NONE")
    assert untyped["isBase64Encoded"] is True


def test_response_mapping() -> None:
    status, headers, body = http_response(json.dumps({
        "statusCode": 302, "headers": {"Location": "/x", "Content-Length": "99"}, "cookies": ["a=1", "b=2"],
    }).encode(), None)
    assert status == 302 and body == b""
    assert headers == [("location", "/x"), ("content-type", "application/json"),
                       ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    status, headers, body = http_response(json.dumps({
        "statusCode": 200, "headers": {"content-type": "text/plain"}, "body": base64.b64encode(b"\x01").decode(),
        "isBase64Encoded": True}).encode(), None)
    assert (status, headers, body) == (200, [("content-type", "text/plain")], b"\x01")
    assert http_response(b'{"message": "hi"}', None) == (200, [("content-type", "application/json")],
                                                         b'{"message": "hi"}')
    assert http_response(b'"plain"', None)[2] == b"plain"
    assert http_response(b'{"errorMessage": "x"}', "Unhandled")[0] == 502
    assert http_response(b'{"statusCode": "nope"}', None)[0] == 502
