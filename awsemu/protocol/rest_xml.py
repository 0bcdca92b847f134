"""The rest-xml codec (S3): REST routing and located members from :mod:`rest_base`, XML bodies from
:mod:`xml_body`, and S3's own answers for what the model does not say.

What comes from patch data (``patches/s3.json``), not code: the response namespace
(``metadata.xmlNamespace``), root element names of output shapes (``locationName`` on e.g.
``ListObjectsV2Output`` -> ``ListBucketResult``), GetBucketLocation's bare-text root, error shapes and
status codes the model lacks (``MalformedXML``, ``MethodNotAllowed``, ``NotImplemented`` ...), and the
tie between ListBuckets and ListDirectoryBuckets on ``GET /``.

S3 specifics kept here:
- virtual-hosted requests: the gateway sets ``host_bucket`` and leaves the path as ``/key``; routing
  sees ``/{bucket}/key`` (the request is not mutated);
- no route: ``MethodNotAllowed`` 405 when the path is served under other methods, ``NotImplemented``
  501 when the method and path exist but the request fits no operation;
- errors: ``<Error><Code/><Message/>[fields]<RequestId/><HostId/></Error>``, no namespace,
  no body for HEAD; ``x-amz-request-id`` and ``x-amz-id-2`` on every response.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Callable
from urllib.parse import quote
from xml.etree import ElementTree

from botocore.model import OperationModel, ServiceModel, Shape

from awsemu.protocol.http import WireRequest, WireResponse
from awsemu.protocol.model_errors import model_error
from awsemu.protocol.rest_base import BodyDecodeError, RestCodec
from awsemu.protocol.rest_plans import BadParam
from awsemu.protocol.xml_body import XmlReaders, XmlWriters, escape, namespace_attr, parse_document
from awsemu.services.base import ServiceError

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def host_id(request_id: str) -> str:
    """S3's ``x-amz-id-2``: opaque and stable for a request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()


class RestXmlCodec(RestCodec):
    """Codec of rest-xml services; S3 is the one awsemu serves."""

    def __init__(self, service_model: ServiceModel) -> None:
        self._readers = XmlReaders()
        self._writers = XmlWriters(service_model.metadata.get("awsemuXmlText"),
                                   service_model.metadata.get("awsemuXmlInterleave"))
        ns = service_model.metadata.get("xmlNamespace")
        self._root_ns = f' xmlns="{escape(ns)}"' if isinstance(ns, str) and ns else ""
        super().__init__(service_model)

    # --- bodies --------------------------------------------------------------------------------

    def compile_body_reader(self, shape: Shape, members_only: bool) -> Callable[[bytes], Any]:
        read = self._readers.reader(shape)

        def read_body(body: bytes) -> Any:
            try:
                root = parse_document(body)
            except ElementTree.ParseError as exc:
                raise BodyDecodeError(str(exc)) from None
            try:
                return read(root)
            except (ValueError, TypeError, KeyError) as exc:
                raise BodyDecodeError(str(exc)) from None

        return read_body

    def compile_body_writer(
        self, operation: OperationModel, shape: Shape, payload_member: str | None, members_only: bool
    ) -> Callable[[Any], bytes]:
        if members_only:
            tag = shape.serialization.get("name") or f"{operation.name}Result"
        else:
            output = operation.output_shape
            assert output is not None and payload_member is not None
            tag = output.members[payload_member].serialization.get("name", payload_member)
        inner = self._writers.inner(shape)
        attrs = self._writers.attributes(shape)
        ns = self._root_ns or namespace_attr(shape)
        head = f"{XML_DECLARATION}<{tag}{ns}>"
        close = f"</{tag}>"

        def write_body(value: Any) -> bytes:
            out = [head if attrs is None else f"{XML_DECLARATION}<{tag}{ns}{attrs(value)}>"]
            inner(out, value)
            out.append(close)
            return "".join(out).encode("utf-8")

        return write_body

    # --- routing and request errors ------------------------------------------------------------

    def route_path(self, request: WireRequest) -> str:
        if request.host_bucket:
            return "/" + quote(request.host_bucket, safe="") + request.raw_path
        return request.raw_path

    def unknown_route(self, request: WireRequest, path: str) -> ServiceError:
        methods = self.router.methods_for_path(path)
        if methods and request.method.upper() not in methods:
            segments = path.lstrip("/").split("/", 1)
            resource = "SERVICE" if not segments[0] else ("OBJECT" if len(segments) > 1 and segments[1] else "BUCKET")
            return model_error(
                self.service_model,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                default_status=405,
                fields={"Method": request.method.upper(), "ResourceType": resource},
            )
        return model_error(
            self.service_model,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            default_status=501,
        )

    def bad_param(self, operation: OperationModel, error: BadParam) -> ServiceError:
        if error.type_name in ("integer", "long"):
            message = f"Provided {error.wire_name} not an integer or within integer range"
        else:
            message = f"Invalid value for {error.wire_name}: {error.value}"
        return model_error(
            self.service_model,
            "InvalidArgument",
            message,
            fields={"ArgumentName": error.wire_name, "ArgumentValue": error.value},
        )

    def bad_body(self, operation: OperationModel, error: Exception) -> ServiceError:
        return model_error(self.service_model, "MalformedXML", MALFORMED_XML)

    def missing_params(self, operation: OperationModel, members: list[str]) -> ServiceError:
        plan = self.input_plan(operation.name)
        if plan.payload_member in members:
            return model_error(self.service_model, "MissingRequestBodyError", "Request Body is empty")
        shape = operation.input_shape
        assert shape is not None
        wire = shape.members[members[0]].serialization.get("name", members[0])
        return model_error(
            self.service_model,
            "InvalidArgument",
            f"{wire} is required",
            fields={"ArgumentName": wire, "ArgumentValue": ""},
        )

    # --- responses -----------------------------------------------------------------------------

    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]

    def body_content_type(self) -> str:
        return "application/xml"

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> WireResponse:
        headers = self.base_headers(request_id)
        headers.extend(error.headers.items())
        if (operation is not None and operation.http.get("method") == "HEAD") or error.status == 304:
            return WireResponse(status=error.status, headers=headers, body=b"")
        out = [
            XML_DECLARATION,
            "<Error><Code>",
            escape(error.code),
            "</Code><Message>",
            escape(error.message),
            "</Message>",
        ]
        for name, value in error.fields.items():
            if value is None:
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out.append(f"<{name}>{escape(text)}</{name}>")
        out.append(f"<RequestId>{escape(request_id)}</RequestId><HostId>{host_id(request_id)}</HostId></Error>")
        headers.append(("Content-Type", "application/xml"))
        return WireResponse(status=error.status, headers=headers, body="".join(out).encode("utf-8"))
