"""HTTP requests on function URLs: the request as Lambda's event (payload format 2.0), and back.

The gateway sends a request whose Host is ``<url-id>.lambda-url.<region>.<anything>`` (the host of
the ``FunctionUrl`` Lambda reports, ``https://<url-id>.lambda-url.<region>.on.aws/``, or a local
name such as ``<url-id>.lambda-url.us-east-1.localhost:4566``) to
``LambdaProvider.serve_function_url`` with plain data (:class:`UrlRequest`); this module builds the
event and turns the function's answer into (status, headers, body):

- an object with ``statusCode``: that status, its ``headers``, ``cookies`` as ``Set-Cookie``
  headers, its ``body`` (base64-decoded when ``isBase64Encoded``);
- anything else (a JSON value without ``statusCode``): status 200, ``application/json``, the
  value's JSON as the body (a string is the body as it is);
- a function error: 502 ``Internal Server Error``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Union
from urllib.parse import parse_qsl

# (status, headers, body); the body streams (an async iterator) on RESPONSE_STREAM URLs
Response = tuple[int, list[tuple[str, str]], Union[bytes, AsyncIterator[bytes]]]

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "application/graphql", "application/yaml")


@dataclass
class UrlRequest:
    """One HTTP request on a function URL, as plain data (no HTTP framework objects)."""

    method: str
    raw_path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


def url_id_of(host: str) -> str:
    return host.split(".", 1)[0].lower()


def build_event(request: UrlRequest, account: str, auth_type: str,
                authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payload format 2.0 event; ``authorizer`` (AWS_IAM URLs) is the verified caller, shown as
    ``requestContext.authorizer.iam`` (accessKey, accountId, callerId, userArn, userId)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    host = headers.get("host", "")
    domain = host.split(":", 1)[0]
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.raw_path or "/",
        "rawQueryString": request.query_string,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if request.query_string:
        params: dict[str, str] = {}
        for key, value in parse_qsl(request.query_string, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": account if auth_type == "AWS_IAM" else "anonymous",
        "apiId": url_id_of(domain),
        "domainName": domain,
        "domainPrefix": url_id_of(domain),
        "http": {
            "method": request.method, "path": request.raw_path or "/", "protocol": request.protocol,
            "sourceIp": request.source_ip, "userAgent": headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if authorizer is not None:
        event["requestContext"]["authorizer"] = {"iam": {
            "accessKey": authorizer.get("accessKey"), "accountId": authorizer.get("accountId"),
            "callerId": authorizer.get("callerId"), "cognitoIdentity": None, "principalOrgId": None,
            "userArn": authorizer.get("userArn"), "userId": authorizer.get("userId"),
        }}
    if request.body:
        if headers.get("content-type", "").lower().startswith(_TEXT_TYPES):
            try:
                event["body"], event["isBase64Encoded"] = request.body.decode("utf-8"), False
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode(), True
    else:
        event["isBase64Encoded"] = False
    return event


def http_response(payload: bytes, function_error: str | None) -> Response:
    if function_error is not None:
        return 502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}'
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return 502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}'
    if not isinstance(answer, dict) or "statusCode" not in answer:
        # Lambda infers a response: a string is the body itself, any other JSON value its JSON text
        data = answer.encode("utf-8") if isinstance(answer, str) else json.dumps(answer).encode()
        return 200, [("content-type", "application/json")], data
    try:
        status = int(answer["statusCode"])
    except (TypeError, ValueError):
        return 502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}'
    # the length is the body's (the gateway sets it); a handler's own content-length could lie
    headers = [(str(k).lower(), str(v)) for k, v in (answer.get("headers") or {}).items()
               if str(k).lower() not in ("content-length", "transfer-encoding", "connection")]
    if not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    for cookie in answer.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body = answer.get("body")
    if body is None:
        data = b""
    elif answer.get("isBase64Encoded"):
        data = base64.b64decode(str(body))
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode()
    return status, headers, data
