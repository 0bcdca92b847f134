"""Answers for requests that name no service awsemu serves, shaped like the protocol they used."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from awsemu.protocol.http import WireRequest, WireResponse


def unknown_service_response(request: WireRequest, service: str, request_id: str) -> WireResponse:
    message = f"The service {service!r} is not available in awsemu."
    if "x-amz-target" in request.headers:
        # AWS JSON protocols: botocore reads the code from __type.
        body = json.dumps({"__type": "UnknownOperationException", "message": message}).encode()
        return WireResponse(
            400,
            [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)],
            body,
        )
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = json.dumps({"Type": "User", "message": message}).encode()
        return WireResponse(
            400,
            [
                ("Content-Type", "application/json"),
                ("X-Amzn-ErrorType", "UnknownOperationException"),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    xml = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return WireResponse(400, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode())
