"""Function URLs: the Cors config applied (preflights, Access-Control-* headers) and AuthType AWS_IAM
(SigV4 verified; lambda:InvokeFunctionUrl evaluated in the iam auth mode), over plain HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ROLE, python_zip, url_request

HANDLER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(event["requestContext"]["http"]["method"] + "\\n")
    return {"statusCode": 200, "body": json.dumps(event),
            "headers": {"content-type": "application/json", "access-control-allow-origin": "https://evil.example",
                        "x-echo": "1"}}
"""


def _url_host(url: str, endpoint: str) -> str:
    url_id = urlsplit(url).hostname.split(".", 1)[0]  # type: ignore[union-attr]
    return f"{url_id}.lambda-url.us-east-1.localhost:{urlsplit(endpoint).port}"




def _signed(endpoint: str, host: str, key: str, secret: str, path: str = "/", method: str = "GET",
            body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """A request signed as SigV4 for the service ``lambda``, as AWS's SDKs sign function URL calls."""
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers=headers or {})
    SigV4Auth(Credentials(key, secret), "lambda", "us-east-1").add_auth(request)
    sent = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return url_request(endpoint, host, path, method, body or None, sent)


def _invocations(out: Path) -> list[str]:
    return out.read_text().split() if out.exists() else []


CORS = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-custom"],
        "ExposeHeaders": ["x-echo"], "MaxAge": 300, "AllowCredentials": True}


def test_cors_preflight_and_response_headers(lam: Any, create: Any, fname: str, aws_endpoint_url: str,
                                             tmp_path: Path) -> None:
    out = tmp_path / "calls"
    create(HANDLER, Environment={"Variables": {"OUT": str(out)}})
    url = lam.create_function_url_config(FunctionName=fname, AuthType="NONE", Cors=CORS)["FunctionUrl"]
    host = _url_host(url, aws_endpoint_url)

    status, headers, body = url_request(aws_endpoint_url, host, "/x", "OPTIONS", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-custom"})
    assert status == 200 and body == b""
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-allow-headers"] == "x-custom"
    assert headers["access-control-max-age"] == "300"
    assert headers["access-control-allow-credentials"] == "true"
    # a refused origin or method: answered, without permission headers
    for origin, method in (("https://other.example", "GET"), ("https://app.example", "DELETE")):
        status, headers, _ = url_request(aws_endpoint_url, host, "/x", "OPTIONS", headers={
            "Origin": origin, "Access-Control-Request-Method": method})
        assert status == 200 and headers["access-control-allow-origin"] is None
    assert _invocations(out) == []  # preflights never reach the function

    # an actual request: the URL's CORS headers replace the function's own
    status, headers, body = url_request(aws_endpoint_url, host, "/x", headers={"Origin": "https://app.example"})
    assert status == 200 and json.loads(body)["rawPath"] == "/x"
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-expose-headers"] == "x-echo"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["x-echo"] == "1"
    status, headers, _ = url_request(aws_endpoint_url, host, "/x", headers={"Origin": "https://other.example"})
    assert status == 200 and headers["access-control-allow-origin"] is None
    assert _invocations(out) == ["GET", "GET"]

    # every origin; then no Cors config: OPTIONS is the function's, and its headers pass through
    lam.update_function_url_config(FunctionName=fname, Cors={"AllowOrigins": ["*"], "AllowMethods": ["*"]})
    status, headers, _ = url_request(aws_endpoint_url, host, "/", "OPTIONS", headers={
        "Origin": "https://any.example", "Access-Control-Request-Method": "PATCH"})
    assert headers["access-control-allow-origin"] == "*" and headers["access-control-allow-methods"] == "PATCH"
    lam.delete_function_url_config(FunctionName=fname)
    url = lam.create_function_url_config(FunctionName=fname, AuthType="NONE")["FunctionUrl"]
    host = _url_host(url, aws_endpoint_url)
    status, headers, _ = url_request(aws_endpoint_url, host, "/", "OPTIONS", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://evil.example"
    assert _invocations(out)[-1] == "OPTIONS"


def test_aws_iam_url_requires_a_valid_signature(lam: Any, create: Any, fname: str, aws_endpoint_url: str,
                                                tmp_path: Path) -> None:
    create(HANDLER, Environment={"Variables": {"OUT": str(tmp_path / "calls")}})
    url = lam.create_function_url_config(FunctionName=fname, AuthType="AWS_IAM",
                                         Cors={"AllowOrigins": ["*"], "AllowMethods": ["POST"]})["FunctionUrl"]
    host = _url_host(url, aws_endpoint_url)
    status, _, body = url_request(aws_endpoint_url, host, "/a")
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    status, _, body = url_request(aws_endpoint_url, host, "/a", headers={"Authorization": "AWS4-HMAC-SHA256 junk"})
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    assert _signed(aws_endpoint_url, host, "test", "wrong-secret", "/a")[0] == 403
    assert _signed(aws_endpoint_url, host, "AKIDNOSUCHKEY0000000", "test", "/a")[0] == 403

    status, _, body = _signed(aws_endpoint_url, host, "test", "test", "/a?q=1", "POST", b'{"n": 1}',
                              {"Content-Type": "application/json"})
    assert status == 200
    event = json.loads(body)
    assert event["body"] == '{"n": 1}' and event["rawQueryString"] == "q=1"
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == "test" and iam["accountId"] == "000000000000"
    assert iam["userArn"] == "arn:aws:iam::000000000000:root"
    # a preflight is answered unsigned (browsers cannot sign it)
    status, headers, _ = url_request(aws_endpoint_url, host, "/a", "OPTIONS", headers={
        "Origin": "https://x.example", "Access-Control-Request-Method": "POST"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"


A = "000000000000"
B = "111111111111"  # a 12-digit key id is the root of that account (secret "test")


def _user(endpoint: str, name: str, actions: list[str], account_key: str = "test") -> tuple[str, str]:
    iam = make_client(endpoint, "iam", aws_access_key_id=account_key)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_aws_iam_url_permission_in_iam_mode(iam_server: ServerProcess) -> None:
    endpoint = iam_server.endpoint
    root = make_client(endpoint, "lambda")
    root.create_function(FunctionName="url-fn", Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                         Code={"ZipFile": python_zip("def handler(event, context):\n    return {'ok': True}\n")})
    host = _url_host(root.create_function_url_config(FunctionName="url-fn", AuthType="AWS_IAM")["FunctionUrl"],
                     endpoint)
    assert _signed(endpoint, host, "test", "test")[0] == 200  # the owning account's root
    allowed = _user(endpoint, "url-caller", ["lambda:InvokeFunctionUrl"])
    status, _, body = _signed(endpoint, host, *allowed)
    assert (status, body) == (200, b'{"ok": true}')
    only_invoke = _user(endpoint, "plain-invoker", ["lambda:InvokeFunction"])  # not the URL action
    assert _signed(endpoint, host, *only_invoke)[0] == 403

    # another account: its own policy allows, the function's policy must grant it too
    other = _user(endpoint, "caller-b", ["lambda:InvokeFunctionUrl"], account_key=B)
    assert _signed(endpoint, host, *other)[0] == 403
    root.add_permission(FunctionName="url-fn", StatementId="b-url", Action="lambda:InvokeFunctionUrl",
                        Principal=B, FunctionUrlAuthType="AWS_IAM")
    status, _, body = _signed(endpoint, host, *other)
    assert (status, body) == (200, b'{"ok": true}')


def test_response_stream_url_of_a_buffered_runtime(lam: Any, create: Any, fname: str, aws_endpoint_url: str,
                                                   tmp_path: Path) -> None:
    # the Python runtime does not stream: its answer maps as in BUFFERED mode
    create(HANDLER, Environment={"Variables": {"OUT": str(tmp_path / "calls")}})
    url = lam.create_function_url_config(FunctionName=fname, AuthType="NONE",
                                         InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    status, headers, body = url_request(aws_endpoint_url, _url_host(url, aws_endpoint_url), "/s")
    assert status == 200 and headers["x-echo"] == "1" and json.loads(body)["rawPath"] == "/s"
