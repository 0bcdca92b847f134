"""The rest-json codec (Lambda): REST routing and located members from :mod:`rest_base`, JSON bodies.

JSON already carries strings, numbers, booleans, lists and objects, so a body is mostly taken as
``json.loads`` gives it (STYLE.md pitfall 1: "treat typed JSON as typed, don't rebuild it"). Only
what JSON cannot say is converted, by converters compiled per shape: timestamps (epoch numbers or
strings -> ``datetime``, and back to ``unixTimestamp`` unless the member names another format),
blobs (base64), and members whose wire name differs from the member name. A shape tree with none of
these compiles to "no converter" and costs nothing per request. Unknown top-level keys are dropped
so a newer client cannot hand a provider an unexpected keyword argument.

Errors are written as Lambda writes them: status from the error, ``X-Amzn-ErrorType: <Code>``,
``x-amzn-RequestId``, body ``{"Type": "User"|"Service", "message": ...}`` plus the error's fields.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

from botocore.model import OperationModel, ServiceModel, Shape

from awsemu.protocol.http import WireRequest, WireResponse
from awsemu.protocol.model_errors import model_error
from awsemu.protocol.rest_base import BodyDecodeError, RestCodec
from awsemu.protocol.rest_plans import EVENTSTREAM, BadParam
from awsemu.protocol.timestamps import format_timestamp, parse_timestamp
from awsemu.services.base import ServiceError

Convert = Callable[[Any], Any]
JSON_TYPE = "application/json"


def _b64decode(value: Any) -> bytes:
    return base64.b64decode(value)


def _b64encode(value: Any) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


class JsonConverters:
    """Compiles (and caches) per-shape converters; ``None`` means "the JSON value is already right"."""

    def __init__(self, reading: bool) -> None:
        self._reading = reading
        self._cache: dict[str, Convert | None] = {}

    def get(self, shape: Shape) -> Convert | None:
        key = shape.name
        if key in self._cache:
            return self._cache[key]
        # provisional forwarding entry: a recursive shape is assumed to need conversion
        self._cache[key] = lambda v: self._cache[key](v)  # type: ignore[misc]
        built = self._build(shape)
        self._cache[key] = built
        return built

    def _build(self, shape: Shape) -> Convert | None:
        t = shape.type_name
        if t == "timestamp":
            if self._reading:
                return parse_timestamp
            fmt = shape.serialization.get("timestampFormat", "unixTimestamp")
            return lambda v: format_timestamp(v, fmt)
        if t == "blob":
            return _b64decode if self._reading else _b64encode
        if t == "list":
            item = self.get(shape.member)
            if item is None:
                return None
            return lambda v: [item(x) for x in v]
        if t == "map":
            value = self.get(shape.value)
            if value is None:
                return None
            return lambda v: {k: value(x) for k, x in v.items()}
        if t == "structure":
            table = self.members(shape)
            if all(conv is None and wire == name for name, wire, conv in table):
                return None
            return self._structure(table)
        return None

    def members(self, shape: Shape, *, body_only: bool = False) -> list[tuple[str, str, Convert | None]]:
        """(member name, JSON key, converter) for each (body) member."""
        table = []
        for name, member in shape.members.items():
            if body_only and "location" in member.serialization:
                continue
            table.append((name, member.serialization.get("name", name), self.get(member)))
        return table

    def _structure(self, table: list[tuple[str, str, Convert | None]]) -> Convert:
        if self._reading:

            def read(v: dict[str, Any]) -> dict[str, Any]:
                out = {}
                for name, wire, conv in table:
                    x = v.get(wire)
                    if x is not None:
                        out[name] = conv(x) if conv is not None else x
                return out

            return read

        def write(v: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for name, wire, conv in table:
                x = v.get(name)
                if x is not None:
                    out[wire] = conv(x) if conv is not None else x
            return out

        return write


class RestJsonCodec(RestCodec):
    """Codec of rest-json services; Lambda is the one awsemu serves."""

    def __init__(self, service_model: ServiceModel) -> None:
        self._readers = JsonConverters(reading=True)
        self._writers = JsonConverters(reading=False)
        super().__init__(service_model)

    # --- bodies --------------------------------------------------------------------------------

    def compile_body_reader(self, shape: Shape, members_only: bool) -> Callable[[bytes], Any]:
        if members_only:
            table = self._readers.members(shape, body_only=True)
            convert: Convert | None = self._readers._structure(table)
        else:
            convert = self._readers.get(shape)

        def read_body(body: bytes) -> Any:
            try:
                value = json.loads(body)
            except ValueError as exc:
                raise BodyDecodeError(str(exc)) from None
            if members_only and not isinstance(value, dict):
                raise BodyDecodeError("the body is not a JSON object")
            if convert is None:
                return value
            try:
                return convert(value)
            except (ValueError, TypeError, AttributeError) as exc:
                raise BodyDecodeError(str(exc)) from None

        return read_body

    def compile_body_writer(
        self, operation: OperationModel, shape: Shape, payload_member: str | None, members_only: bool
    ) -> Callable[[Any], bytes]:
        if members_only:
            convert: Convert | None = self._writers._structure(self._writers.members(shape, body_only=True))
        else:
            convert = self._writers.get(shape)
        dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

        def write_body(value: Any) -> bytes:
            return dumps(convert(value) if convert is not None else value).encode("utf-8")

        return write_body

    # --- routing and request errors ------------------------------------------------------------

    def unknown_route(self, request: WireRequest, path: str) -> ServiceError:
        return model_error(
            self.service_model,
            "UnknownOperationException",
            f"No operation matches {request.method.upper()} {path}",
            default_status=404,
        )

    def bad_param(self, operation: OperationModel, error: BadParam) -> ServiceError:
        return model_error(
            self.service_model,
            "InvalidParameterValueException",
            f"1 validation error detected: Value '{error.value}' at '{error.wire_name}' "
            f"failed to satisfy constraint: Member must be a valid {error.type_name}",
        )

    def bad_body(self, operation: OperationModel, error: Exception) -> ServiceError:
        return model_error(
            self.service_model,
            "InvalidRequestContentException",
            f"Could not parse request body into json: {error}",
        )

    def missing_params(self, operation: OperationModel, members: list[str]) -> ServiceError:
        problems = [
            f"Value null at '{name[:1].lower() + name[1:]}' failed to satisfy constraint: "
            "Member must not be null"
            for name in members
        ]
        count = len(problems)
        head = f"{count} validation error{'s' if count > 1 else ''} detected: "
        return model_error(self.service_model, "ValidationException", head + "; ".join(problems))

    # --- responses -----------------------------------------------------------------------------

    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amzn-RequestId", request_id)]

    def body_content_type(self) -> str:
        return JSON_TYPE

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        response = super().serialize(operation, output, request_id)
        if response.header("content-type") is None:  # Lambda sends it even on empty bodies
            streaming = self.output_plan(operation.name).payload_kind == EVENTSTREAM
            response.headers.append(
                ("Content-Type", "application/vnd.amazon.eventstream" if streaming else JSON_TYPE)
            )
        return response

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> WireResponse:
        body: dict[str, Any] = {"Type": "User" if error.sender_fault else "Service", "message": error.message}
        for name, value in error.fields.items():
            if value is not None:
                body[name] = value
        headers = [
            ("x-amzn-RequestId", request_id),
            ("X-Amzn-ErrorType", error.code),
            ("Content-Type", JSON_TYPE),
        ]
        headers.extend(error.headers.items())
        return WireResponse(
            status=error.status, headers=headers, body=json.dumps(body, default=str).encode("utf-8")
        )
