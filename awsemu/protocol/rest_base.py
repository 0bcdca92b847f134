"""What the REST codecs (rest-xml, rest-json) share: route, read located members, place the payload.

A REST request is parsed in four steps, identical for S3 and Lambda:

1. route: method + raw path + query keys + header names -> operation (:mod:`rest_router`);
2. URI labels, query parameters, headers and header maps -> members (:mod:`rest_plans`);
3. the payload: a streaming blob member gets ``request.stream()`` (never read here, so an S3 PUT of
   gigabytes costs nothing until the provider pulls it), a plain blob or string member gets the body,
   a structure payload or body members go through the protocol's compiled body reader;
4. errors: ill-typed parameters, undecodable bodies and unknown routes become the service's own
   error (each subclass says which).

Serializing is the mirror: status (``http.responseCode`` or a status-code member), header members,
then the payload. Subclasses supply body codecs, request-id headers and the error format.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

from botocore.model import OperationModel, ServiceModel, Shape

from awsemu.protocol.codec import ParsedRequest
from awsemu.protocol.http import WireRequest, WireResponse
from awsemu.protocol.rest_plans import (
    BLOB,
    EVENTSTREAM,
    MEMBERS,
    STREAM,
    STRING,
    STRUCTURE,
    BadParam,
    InputPlan,
    OutputPlan,
    compile_input_plan,
    compile_output_plan,
    query_multidict,
)
from awsemu.protocol.rest_router import RestRouter
from awsemu.services.base import ServiceError


class BodyDecodeError(ValueError):
    """A request body the protocol cannot decode (bad XML/JSON, wrong types inside)."""


class RestCodec(ABC):
    """Base of :class:`RestXmlCodec` and :class:`RestJsonCodec`; compiled once per service."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        self.router = RestRouter(service_model)
        self._inputs: dict[str, InputPlan] = {}
        self._outputs: dict[str, OutputPlan] = {}
        for name in service_model.operation_names:
            op = service_model.operation_model(name)
            inp = compile_input_plan(op)
            if inp.payload_kind in (STRUCTURE, MEMBERS) and inp.body_shape is not None:
                inp.body_reader = self.compile_body_reader(inp.body_shape, inp.payload_kind == MEMBERS)
            self._inputs[name] = inp
            out = compile_output_plan(op)
            if out.payload_kind in (STRUCTURE, MEMBERS) and out.body_shape is not None:
                out.body_writer = self.compile_body_writer(
                    op, out.body_shape, out.payload_member, out.payload_kind == MEMBERS
                )
            self._outputs[name] = out

    # --- hooks ---------------------------------------------------------------------------------

    @abstractmethod
    def compile_body_reader(self, shape: Shape, members_only: bool) -> Callable[[bytes], Any]:
        """bytes -> payload value (structure payload) or dict of body members (``members_only``).
        Raise :class:`BodyDecodeError` on an undecodable body."""

    @abstractmethod
    def compile_body_writer(
        self, operation: OperationModel, shape: Shape, payload_member: str | None, members_only: bool
    ) -> Callable[[Any], bytes]:
        """payload value (or the whole output dict, ``members_only``) -> body bytes."""

    def route_path(self, request: WireRequest) -> str:
        return request.raw_path

    @abstractmethod
    def unknown_route(self, request: WireRequest, path: str) -> ServiceError:
        ...

    @abstractmethod
    def bad_param(self, operation: OperationModel, error: BadParam) -> ServiceError:
        ...

    @abstractmethod
    def bad_body(self, operation: OperationModel, error: Exception) -> ServiceError:
        ...

    @abstractmethod
    def missing_params(self, operation: OperationModel, members: list[str]) -> ServiceError:
        """Required top-level members absent from the request."""

    @abstractmethod
    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        ...

    @abstractmethod
    def body_content_type(self) -> str:
        ...

    def empty_body_for(self, operation: OperationModel, status: int) -> bool:
        """Whether a response carries no body at all (HEAD, 204, 304)."""
        return status in (204, 304) or operation.http.get("method") == "HEAD"

    # --- the Codec protocol --------------------------------------------------------------------

    def input_plan(self, operation_name: str) -> InputPlan:
        return self._inputs[operation_name]

    def output_plan(self, operation_name: str) -> OutputPlan:
        return self._outputs[operation_name]

    async def parse(self, request: WireRequest) -> ParsedRequest:
        path = self.route_path(request)
        query = query_multidict(request.query())
        found = self.router.match(request.method.upper(), path, query, request.headers)
        if found is None:
            raise self.unknown_route(request, path)
        op = found.route.operation
        plan = self._inputs[op.name]
        try:
            params = plan.read_located(found.uri_params, query, request.headers)
        except BadParam as exc:
            raise self.bad_param(op, exc) from None
        kind = plan.payload_kind
        member = plan.payload_member
        if kind == STREAM:
            assert member is not None
            params[member] = request.stream() if request.stream is not None else await request.body()
        elif kind == BLOB or kind == STRING:
            assert member is not None
            body = await request.body()
            if body or member in plan.required:
                params[member] = body if kind == BLOB else body.decode("utf-8", "replace")
        elif kind == STRUCTURE or kind == MEMBERS:
            body = await request.body()
            if body and plan.body_reader is not None:
                try:
                    value = plan.body_reader(body)
                except BodyDecodeError as exc:
                    raise self.bad_body(op, exc) from None
                if kind == STRUCTURE:
                    assert member is not None
                    params[member] = value
                else:
                    params.update(value)
        if plan.required:
            missing = [name for name in plan.required if name not in params]
            if missing:
                raise self.missing_params(op, missing)
        return ParsedRequest(operation=op, params=params)

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        plan = self._outputs[operation.name]
        headers = self.base_headers(request_id)
        output = output or {}
        status = plan.write_located(output, headers)
        kind = plan.payload_kind
        body: Any = b""
        if self.empty_body_for(operation, status):
            pass
        elif kind == BLOB or kind == EVENTSTREAM:
            value = output.get(plan.payload_member or "")
            if value is not None:
                body = value.encode() if isinstance(value, str) else value
        elif kind == STRING:
            value = output.get(plan.payload_member or "")
            if value is not None:
                body = value.encode("utf-8")
        elif kind == STRUCTURE and plan.body_writer is not None:
            value = output.get(plan.payload_member or "")
            if value is not None:
                body = plan.body_writer(value)
                self._content_type(headers)
        elif kind == MEMBERS and plan.body_writer is not None:
            body = plan.body_writer(output)
            self._content_type(headers)
        return WireResponse(status=status, headers=headers, body=body)

    def _content_type(self, headers: list[tuple[str, str]]) -> None:
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", self.body_content_type()))
