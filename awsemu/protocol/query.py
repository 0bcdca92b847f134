"""The AWS query protocol: IAM, STS, and SQS's legacy query form.

Requests are ``Action=<Op>&Version=<api>&...`` form fields (POST body, or the query string of a
GET). Nested members are spelled as dotted paths::

    Tags.member.1.Key=k            list (``member`` or the list member's locationName)
    Attributes.entry.1.key=...     map (``entry.N.key/value``, or locationNames)
    AttributeName.1=All            flattened list whose members are named ``AttributeName``
    MessageAttribute.1.Name=...    flattened map (SQS), ``.Value.StringValue=...``

Parsing first folds the fields into a trie on the dots (one pass over the fields, no model),
then runs a reader compiled once per shape that picks its members out of the trie and types the
leaves (int, bool, float, base64 blob, ISO 8601 timestamp). Responses are written by writers
compiled per shape that append escaped strings to a list::

    <GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
      <GetUserResult>...</GetUserResult>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </GetUserResponse>

Lists are ``<Name><member>..</member></Name>`` or, flattened, the repeated item element; maps
``<entry><key/><value/></entry>`` or, flattened, ``<Name><Key/><Value/></Name>`` repeated;
timestamps ISO 8601 with milliseconds. Errors are ``<ErrorResponse>`` with ``Type``
(Sender/Receiver), ``Code``, ``Message`` and the request id.

SQS's model in botocore 1.44.8 is json-only; the query wire names it used to carry (flattened
lists and maps, ``Attribute.N.Name``, result wrappers, the XML namespace) are patch data in
``patches/sqs_query.json``, merged by ``models.variant_model``. Operations parsed here are the
ones of the model the codec was built with, so the gateway sees one SQS model whatever the wire.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable

from botocore.model import OperationModel, ServiceModel, Shape

from awsemu.protocol.codec import ParsedRequest
from awsemu.protocol.http import WireRequest, WireResponse, form_pairs
from awsemu.protocol.models import variant_model
from awsemu.protocol.rpc_plans import (
    ErrorTable,
    LazyPlans,
    InputValidator,
    compile_input_validator,
    lower_camel,
    validation_message,
)
from awsemu.protocol.timestamps import format_iso8601, parse_timestamp
from awsemu.services.base import ServiceError

_CONTENT_TYPE = "text/xml"


class InvalidAction(ServiceError):
    code = "InvalidAction"
    status = 400


class MissingAction(ServiceError):
    code = "MissingAction"
    status = 400


class ValidationError(ServiceError):
    code = "ValidationError"
    status = 400


class MissingParameter(ServiceError):
    code = "MissingParameter"
    status = 400


class InvalidParameterValue(ServiceError):
    code = "InvalidParameterValue"
    status = 400


def escape_xml(text: str) -> str:
    """Escape text content. ``\\r`` becomes ``&#13;`` so XML parsers keep it (they fold bare CRs)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def build_trie(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``[("A.member.1.B", "x")]`` -> ``{"A": {"member": {"1": {"B": "x"}}}}``; children win over leaves."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = parts[-1]
        if not isinstance(node.get(last), dict):
            node[last] = value
    return root


def _indexed(node: Any) -> list[Any]:
    """The items of ``{"1": a, "2": b}`` in index order; ``""`` (an empty list) gives ``[]``."""
    if not isinstance(node, dict):
        if node == "":
            return []
        raise ValueError("expected indexed members")
    return [node[k] for k in sorted(node, key=int)]


# ---------------------------------------------------------------------------------------------
# Readers: trie node -> typed value, one per shape.

Reader = Callable[[Any], Any]


def _read_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError("expected true or false")


def _read_blob(text: str) -> bytes:
    return base64.b64decode(text)


def _scalar(fn: Callable[[str], Any]) -> Reader:
    def read(node: Any) -> Any:
        if isinstance(node, dict):
            raise ValueError("expected a value, found nested members")
        return fn(node)

    return read


_SCALAR_READERS: dict[str, Reader] = {
    "string": _scalar(str),
    "character": _scalar(str),
    "integer": _scalar(int),
    "long": _scalar(int),
    "float": _scalar(float),
    "double": _scalar(float),
    "boolean": _scalar(_read_bool),
    "blob": _scalar(_read_blob),
    "timestamp": _scalar(parse_timestamp),
}


def _member_keys(member_name: str, member: Shape) -> tuple[str, str]:
    """(key holding the member's fields, key an empty list is sent under) as botocore spells them."""
    name = member.serialization.get("name", member_name)
    if member.type_name == "list" and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")  # type: ignore[attr-defined]
        if item_name:
            return item_name, name
    return name, name


class _ReaderCompiler:
    def __init__(self) -> None:
        # Keyed by shape name and flattening: a member reference may flatten a list shape that
        # other references use unflattened (SQS ``StringListValues``).
        self._readers: dict[tuple[str, bool], Reader] = {}

    def reader(self, shape: Shape) -> Reader:
        kind = shape.type_name
        if kind in _SCALAR_READERS:
            return _SCALAR_READERS[kind]
        name = (shape.name, bool(shape.serialization.get("flattened")))
        if name in self._readers:
            return self._readers[name]
        cell: list[Reader] = []
        self._readers[name] = lambda node: cell[0](node)
        if kind == "structure":
            built = self._structure(shape)
        elif kind == "list":
            built = self._list(shape)
        else:
            built = self._map(shape)
        cell.append(built)
        self._readers[name] = built
        return built

    def members(self, shape: Shape) -> tuple[tuple[str, str, str, Reader], ...]:
        plan = []
        for member_name, member in shape.members.items():  # type: ignore[attr-defined]
            key, empty_key = _member_keys(member_name, member)
            plan.append((member_name, key, empty_key, self.reader(member)))
        return tuple(plan)

    def _structure(self, shape: Shape) -> Reader:
        plan = self.members(shape)

        def read_structure(node: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            if not isinstance(node, dict):
                return out  # ``Member=`` with no fields: an empty structure
            for member_name, key, empty_key, fn in plan:
                child = node.get(key)
                if child is None and empty_key != key:
                    child = node.get(empty_key)
                if child is not None:
                    out[member_name] = fn(child)
            return out

        return read_structure

    def _list(self, shape: Shape) -> Reader:
        member: Shape = shape.member  # type: ignore[attr-defined]
        fn = self.reader(member)
        if shape.serialization.get("flattened"):

            def read_flat_list(node: Any) -> list[Any]:
                return [fn(item) for item in _indexed(node)]

            return read_flat_list
        item_key = member.serialization.get("name", "member")

        def read_list(node: Any) -> list[Any]:
            if isinstance(node, dict):
                node = node.get(item_key, "")
            return [fn(item) for item in _indexed(node)]

        return read_list

    def _map(self, shape: Shape) -> Reader:
        key_shape: Shape = shape.key  # type: ignore[attr-defined]
        value_shape: Shape = shape.value  # type: ignore[attr-defined]
        read_key = self.reader(key_shape)
        read_value = self.reader(value_shape)
        key_name = key_shape.serialization.get("name", "key")
        value_name = value_shape.serialization.get("name", "value")
        flattened = bool(shape.serialization.get("flattened"))

        def read_map(node: Any) -> dict[Any, Any]:
            if not flattened and isinstance(node, dict):
                node = node.get("entry", "")
            out = {}
            for entry in _indexed(node):
                value = entry.get(value_name)
                out[read_key(entry[key_name])] = read_value(value) if value is not None else None
            return out

        return read_map


# ---------------------------------------------------------------------------------------------
# Writers: (out, value) -> appends XML text, one per shape.

Emit = Callable[[list[str], Any], None]


def _text_string(value: Any) -> str:
    return escape_xml(value if isinstance(value, str) else str(value))


def _text_bool(value: Any) -> str:
    return "true" if value else "false"


def _text_float(value: Any) -> str:
    value = float(value)
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _text_blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


_SCALAR_TEXT: dict[str, Callable[[Any], str]] = {
    "string": _text_string,
    "character": _text_string,
    "integer": lambda value: str(int(value)),
    "long": lambda value: str(int(value)),
    "float": _text_float,
    "double": _text_float,
    "boolean": _text_bool,
    "blob": _text_blob,
    "timestamp": format_iso8601,
}


class _WriterCompiler:
    def __init__(self) -> None:
        self._contents: dict[str, Emit] = {}

    def content(self, shape: Shape) -> Emit:
        """Writes what goes *inside* an element of this shape."""
        kind = shape.type_name
        if kind in _SCALAR_TEXT:
            text = _SCALAR_TEXT[kind]

            def emit_scalar(out: list[str], value: Any) -> None:
                out.append(text(value))

            return emit_scalar
        name = shape.name
        if name in self._contents:
            return self._contents[name]
        cell: list[Emit] = []
        self._contents[name] = lambda out, value: cell[0](out, value)
        if kind == "structure":
            built = self._structure(shape)
        elif kind == "list":
            member: Shape = shape.member  # type: ignore[attr-defined]
            item = self.element(member.serialization.get("name", "member"), member)

            def emit_list(out: list[str], value: Any) -> None:
                for element in value:
                    item(out, element)

            built = emit_list
        else:
            built = self._map_entries(shape, "entry")
        cell.append(built)
        self._contents[name] = built
        return built

    def element(self, tag: str, shape: Shape) -> Emit:
        """Writes the element(s) a member of this shape becomes under ``tag``."""
        flattened = bool(shape.serialization.get("flattened"))
        if flattened and shape.type_name == "list":
            member: Shape = shape.member  # type: ignore[attr-defined]
            item = self.element(member.serialization.get("name", tag), member)

            def emit_items(out: list[str], values: Any) -> None:
                for value in values:
                    item(out, value)

            return emit_items
        if flattened and shape.type_name == "map":
            return self._map_entries(shape, tag)
        inner = self.content(shape)
        open_tag, close_tag = f"<{tag}>", f"</{tag}>"

        def emit_element(out: list[str], value: Any) -> None:
            out.append(open_tag)
            inner(out, value)
            out.append(close_tag)

        return emit_element

    def _map_entries(self, shape: Shape, entry_tag: str) -> Emit:
        key_shape: Shape = shape.key  # type: ignore[attr-defined]
        value_shape: Shape = shape.value  # type: ignore[attr-defined]
        emit_key = self.element(key_shape.serialization.get("name", "key"), key_shape)
        emit_value = self.element(value_shape.serialization.get("name", "value"), value_shape)
        open_tag, close_tag = f"<{entry_tag}>", f"</{entry_tag}>"

        def emit_entries(out: list[str], value: Any) -> None:
            for key, item in value.items():
                out.append(open_tag)
                emit_key(out, key)
                if item is not None:
                    emit_value(out, item)
                out.append(close_tag)

        return emit_entries

    def _structure(self, shape: Shape) -> Emit:
        plan = []
        for member_name, member in shape.members.items():  # type: ignore[attr-defined]
            tag = member.serialization.get("name", member_name)
            plan.append((member_name, self.element(tag, member)))
        plan_t = tuple(plan)

        def emit_structure(out: list[str], value: Any) -> None:
            for member_name, emit in plan_t:
                item = value.get(member_name)
                if item is not None:
                    emit(out, item)

        return emit_structure


# ---------------------------------------------------------------------------------------------


@dataclass
class _OperationPlan:
    operation: OperationModel  # of the codec's own model (what ParsedRequest carries)
    members: tuple[tuple[str, str, str, Reader], ...]
    required: tuple[str, ...]
    validate: InputValidator
    write: Emit | None  # None when the operation has no output (no ``<OpResult>`` element)
    result_open: str
    result_close: str
    response_open: str
    response_close: str


class QueryCodec:
    """Codec of the ``query`` protocol for one service model (SQS: its legacy query form)."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        name = service_model.service_name
        if service_model.protocol == "query":
            wire = service_model
        else:
            wire = variant_model(name, f"{name}_query")
        self._wire = wire
        self._namespace: str = wire.metadata.get("xmlNamespace", "")
        # Query-compatible JSON services (SQS) keep their query-era wording for missing members.
        self._missing_parameter_style = "awsQueryCompatible" in service_model.metadata
        # A member some clients send as the request path instead of a field (SQS QueueUrl).
        self._path_member: str | None = wire.metadata.get("awsemuPathMember")
        self._errors = ErrorTable(wire)
        self._operation_names = frozenset(wire.operation_names)
        self._readers = _ReaderCompiler()
        self._writers = _WriterCompiler()
        self._plans: LazyPlans[_OperationPlan] = LazyPlans(self._build_plan)

    def _plan(self, name: str) -> _OperationPlan:
        return self._plans.get(name)

    def _build_plan(self, name: str) -> _OperationPlan:
        wire_op = self._wire.operation_model(name)
        input_shape = wire_op.input_shape
        output_shape = wire_op.output_shape
        write = None
        result_tag = f"{name}Result"
        if output_shape is not None:
            result_tag = output_shape.serialization.get("resultWrapper", result_tag)
            write = self._writers.content(output_shape)
        xmlns = f' xmlns="{self._namespace}"' if self._namespace else ""
        return _OperationPlan(
            operation=self.service_model.operation_model(name),
            members=self._readers.members(input_shape) if input_shape is not None else (),
            required=tuple(input_shape.required_members) if input_shape is not None else (),
            validate=compile_input_validator(
                input_shape,
                check_json_types=False,
                check_constraints=not self._missing_parameter_style,
            ),
            write=write,
            result_open=f"<{result_tag}>",
            result_close=f"</{result_tag}>",
            response_open=f"<{name}Response{xmlns}>",
            response_close=f"</{name}Response>",
        )

    # -- parse ---------------------------------------------------------------------------------

    async def parse(self, request: WireRequest) -> ParsedRequest:
        pairs = list(request.query())
        if request.method.upper() != "GET":
            body = await request.body()
            if body:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidParameterValue("The request body is not valid UTF-8") from None
                pairs.extend(form_pairs(text))
        action = next((value for key, value in pairs if key == "Action"), None)
        if not action:
            raise MissingAction("Could not find operation")
        if action not in self._operation_names:
            raise InvalidAction(f"The action {action} is not valid for this web service.")
        plan = self._plan(action)
        trie = build_trie(pairs)
        params: dict[str, Any] = {}
        for member_name, key, empty_key, read in plan.members:
            node = trie.get(key)
            if node is None and empty_key != key:
                node = trie.get(empty_key)
            if node is None:
                continue
            try:
                params[member_name] = read(node)
            except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
                raise self._bad_value(member_name, node) from None
        path_member = self._path_member
        if path_member and path_member not in params and request.raw_path not in ("", "/"):
            if any(member[0] == path_member for member in plan.members):
                params[path_member] = _request_url(request)
        if self._missing_parameter_style:
            for member_name in plan.required:
                if params.get(member_name) is None:
                    raise MissingParameter(f"The request must contain the parameter {member_name}.")
        problems = plan.validate(params)
        if problems:
            raise ValidationError(validation_message(problems))
        return ParsedRequest(plan.operation, params)

    def _bad_value(self, member_name: str, node: Any) -> ServiceError:
        shown = node if isinstance(node, str) else "..."
        if self._missing_parameter_style:
            return InvalidParameterValue(f"Value {shown} for parameter {member_name} is invalid.")
        return ValidationError(
            f"1 validation error detected: Value '{shown}' at '{lower_camel(member_name)}' "
            "failed to satisfy constraint: Member must be of the modeled type"
        )

    # -- serialize -----------------------------------------------------------------------------

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        plan = self._plan(operation.name)
        out = [plan.response_open]
        if plan.write is not None:
            out.append(plan.result_open)
            plan.write(out, output or {})
            out.append(plan.result_close)
        out.append("<ResponseMetadata><RequestId>")
        out.append(escape_xml(request_id))
        out.append("</RequestId></ResponseMetadata>")
        out.append(plan.response_close)
        return self._response(200, "".join(out), request_id)

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> WireResponse:
        resolved = self._errors.resolve(error)
        xmlns = f' xmlns="{self._namespace}"' if self._namespace else ""
        out = [
            f"<ErrorResponse{xmlns}><Error><Type>",
            "Sender" if resolved.sender_fault else "Receiver",
            "</Type><Code>",
            escape_xml(resolved.code),
            "</Code><Message>",
            escape_xml(error.message),
            "</Message>",
        ]
        for key, value in error.fields.items():
            out.append(f"<{key}>{escape_xml(str(value))}</{key}>")
        out.append("</Error><RequestId>")
        out.append(escape_xml(request_id))
        out.append("</RequestId></ErrorResponse>")
        response = self._response(resolved.status, "".join(out), request_id)
        response.headers.extend(error.headers.items())
        return response

    def _response(self, status: int, xml: str, request_id: str) -> WireResponse:
        headers = [("Content-Type", _CONTENT_TYPE), ("x-amzn-RequestId", request_id)]
        return WireResponse(status=status, headers=headers, body=xml.encode("utf-8"))


def _request_url(request: WireRequest) -> str:
    """The URL the client called, path only (no query): what a queue URL is."""
    headers = request.headers
    scheme = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    host = headers.get("host") or "localhost"
    return f"{scheme}://{host}{request.raw_path}"
