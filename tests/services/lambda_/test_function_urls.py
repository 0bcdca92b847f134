"""HTTP requests on function URLs (urllib against the server, Host ``<id>.lambda-url.<region>.localhost``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from lambda_helpers import url_request

ECHO_HANDLER = """
import base64, json

def handler(event, context):
    if event["rawPath"] == "/bare":
        return {"bare": True, "method": event["requestContext"]["http"]["method"]}
    if event["rawPath"] == "/boom":
        raise ValueError("boom")
    if event["rawPath"] == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(b"\\x00\\xff").decode(), "isBase64Encoded": True}
    return {"statusCode": 201, "headers": {"x-echo": "yes", "content-type": "application/json"},
            "cookies": ["session=abc; Path=/"], "body": json.dumps(event)}
"""




def test_function_url_get_and_post(lam: Any, create: Any, fname: str, aws_endpoint_url: str) -> None:
    create(ECHO_HANDLER, Timeout=10)
    url = lam.create_function_url_config(FunctionName=fname, AuthType="NONE")["FunctionUrl"]
    url_host = urlsplit(url).hostname
    assert url_host is not None and ".lambda-url.us-east-1." in url_host
    port = urlsplit(aws_endpoint_url).port
    host = f"{url_host.split('.', 1)[0]}.lambda-url.us-east-1.localhost:{port}"

    status, headers, body = url_request(aws_endpoint_url, host, "/bare?x=1")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"bare": True, "method": "GET"}

    status, headers, body = url_request(aws_endpoint_url, host, "/items/7?a=1&a=2&b=", method="POST",
                                     body=b'{"hello": "world"}',
                                     headers={"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2",
                                              "X-Custom": "v"})
    assert status == 201 and headers["x-echo"] == "yes"
    assert headers["set-cookie"] == "session=abc; Path=/"
    event = json.loads(body)
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/7" and event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["x-custom"] == "v" and "cookie" not in event["headers"]
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["path"] == "/items/7"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["domainName"] == host.split(":")[0] and context["domainPrefix"] == host.split(".")[0]
    assert context["accountId"] == "anonymous" and isinstance(context["timeEpoch"], int)

    status, _, body = url_request(aws_endpoint_url, host, "/echo", method="PUT", body=b"\x00\x01",
                               headers={"Content-Type": "application/octet-stream"})
    event = json.loads(body)
    assert status == 201 and event["isBase64Encoded"] is True and event["body"] == "AAE="

    status, headers, body = url_request(aws_endpoint_url, host, "/binary")
    assert status == 200 and body == b"\x00\xff" and headers["content-type"] == "application/octet-stream"
    assert url_request(aws_endpoint_url, host, "/boom")[0] == 502

    lam.update_function_url_config(FunctionName=fname, AuthType="AWS_IAM")
    assert url_request(aws_endpoint_url, host, "/bare")[0] == 403  # unsigned
    lam.delete_function_url_config(FunctionName=fname)
    assert url_request(aws_endpoint_url, host, "/bare")[0] == 403  # no such URL any more
