"""Per-operation plans for the REST protocols: where each member lives on the wire, compiled once.

An operation's input and output shapes are walked once, when the codec is built, into flat tables:
URI labels, query keys, headers, header maps (``x-amz-meta-*``), the status-code member and the
payload. Each entry holds a ready converter (text -> value for input, value -> text for output), so
a request is a few dict lookups and calls, never a walk over botocore shapes (STYLE.md pitfall 1).
Bodies are protocol-specific: the codec hands a body reader/writer compiler to the plan builders.

Defaults follow botocore: query timestamps are iso8601, header timestamps rfc822, booleans
``true``/``false``, header lists comma-joined with strings quoted when they hold ``,`` or ``"``,
``jsonvalue`` headers base64-encoded JSON.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from botocore.model import OperationModel, Shape

from awsemu.protocol.timestamps import format_timestamp, parse_timestamp

TextReader = Callable[[str], Any]
TextWriter = Callable[[Any], str]


class BadParam(ValueError):
    """A header/query/URI value that does not fit its member's type; codecs map it to their error."""

    def __init__(self, member: str, wire_name: str, value: str, type_name: str) -> None:
        super().__init__(f"{wire_name}={value!r} is not a valid {type_name}")
        self.member = member
        self.wire_name = wire_name
        self.value = value
        self.type_name = type_name


# --- text converters -------------------------------------------------------------------------


def _read_bool(text: str) -> bool:
    low = text.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    raise ValueError(text)


def _int_reader(bits: int) -> TextReader:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def read_int(text: str) -> int:
        digits = text.strip()
        body = digits[1:] if digits[:1] in ("-", "+") else digits
        # int() alone would also take "1_000" and non-ASCII digits
        if not (body.isascii() and body.isdigit()):
            raise ValueError(text)
        value = int(digits)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return read_int


_read_int32 = _int_reader(32)
_read_int64 = _int_reader(64)


def _read_jsonvalue(text: str) -> Any:
    return json.loads(base64.b64decode(text))


def split_header_list(text: str) -> list[str]:
    """Split a comma-separated header list; double-quoted items may hold ``,`` and ``\\"``."""
    items: list[str] = []
    i, n = 0, len(text)
    while i <= n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            buf: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(text[i])
                i += 1
            items.append("".join(buf))
            i = text.find(",", i)
            if i < 0:
                break
            i += 1
        else:
            j = text.find(",", i)
            if j < 0:
                items.append(text[i:].strip())
                break
            items.append(text[i:j].strip())
            i = j + 1
    return items


def text_reader(shape: Shape, *, in_header: bool = False) -> TextReader:
    """A converter from header/query/URI text to the member's value."""
    t = shape.type_name
    if t == "string":
        if in_header and shape.serialization.get("jsonvalue"):
            return _read_jsonvalue
        return str
    if t == "integer":
        return _read_int32
    if t == "long":
        return _read_int64
    if t == "boolean":
        return _read_bool
    if t in ("float", "double"):
        return float
    if t == "timestamp":
        return parse_timestamp
    if t == "blob":
        return base64.b64decode
    if t == "list":
        item = text_reader(shape.member, in_header=in_header)
        if in_header:
            return lambda text: [item(v) for v in split_header_list(text)]
        return item  # query lists: the caller applies it to each repeated value
    raise TypeError(f"no text form for {t} ({shape.name})")


def _quote_list_item(value: str) -> str:
    if '"' in value or "," in value:
        return '"' + value.replace('"', '\\"') + '"'
    return value


def text_writer(shape: Shape, default_timestamp: str = "rfc822") -> TextWriter:
    """A converter from a member's value to header text."""
    t = shape.type_name
    if t == "timestamp":
        fmt = shape.serialization.get("timestampFormat", default_timestamp)
        return lambda v: str(format_timestamp(v, fmt))
    if t == "boolean":
        return lambda v: "true" if v else "false"
    if t == "string" and shape.serialization.get("jsonvalue"):
        return lambda v: base64.b64encode(json.dumps(v, separators=(",", ":")).encode()).decode()
    if t == "blob":
        return lambda v: base64.b64encode(v.encode() if isinstance(v, str) else v).decode()
    if t == "list":
        item = text_writer(shape.member, default_timestamp)
        if shape.member.type_name == "string":
            return lambda v: ",".join(_quote_list_item(x) for x in v)
        return lambda v: ",".join(item(x) for x in v)
    return str


# --- input plans -------------------------------------------------------------------------------

# payload kinds
NONE, STREAM, BLOB, STRING, STRUCTURE, MEMBERS, EVENTSTREAM = (
    "none", "stream", "blob", "string", "structure", "members", "eventstream"
)


@dataclass
class InputPlan:
    operation: OperationModel
    uri: tuple[tuple[str, str, TextReader], ...]  # (member, wire name, reader)
    query: tuple[tuple[str, str, TextReader, bool], ...]  # (wire key, member, reader, is list)
    query_map: tuple[str, bool] | None  # (member, values are lists)
    headers: tuple[tuple[str, str, TextReader], ...]  # (lower-case header, member, reader)
    header_maps: tuple[tuple[str, str], ...]  # (lower-case prefix, member)
    payload_member: str | None
    payload_kind: str
    body_shape: Shape | None
    # top-level members the model marks required (nested ones are the provider's to check)
    required: tuple[str, ...] = ()
    # set by the codec: body bytes -> value of the payload member / dict of body members
    body_reader: Callable[[bytes], Any] | None = None

    def read_located(
        self,
        uri_params: Mapping[str, str],
        query: Mapping[str, Sequence[str]],
        headers: Any,
    ) -> dict[str, Any]:
        """Members from URI, query and headers. Raises :class:`BadParam` on ill-typed values."""
        try:
            return self._read_located(uri_params, query, headers)
        except BadParam as exc:
            shape = self.operation.input_shape
            if shape is not None and exc.member in shape.members:
                member = shape.members[exc.member]
                exc.type_name = member.member.type_name if member.type_name == "list" else member.type_name
            raise

    def _read_located(
        self,
        uri_params: Mapping[str, str],
        query: Mapping[str, Sequence[str]],
        headers: Any,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for member, wire, reader in self.uri:
            raw = uri_params.get(wire)
            if raw is not None:
                params[member] = _convert(reader, raw, member, wire)
        for key, member, reader, is_list in self.query:
            values = query.get(key)
            if values is None:
                continue
            if is_list:
                params[member] = [_convert(reader, v, member, key) for v in values]
            elif values[-1] == "" and reader is not str:
                continue  # ``?max-keys=`` means "not given" to S3, not an error
            else:
                params[member] = _convert(reader, values[-1], member, key)
        if self.query_map is not None:
            member, lists = self.query_map
            claimed = {q[0] for q in self.query}
            mapped = {k: (v if lists else v[-1]) for k, v in query.items() if k not in claimed}
            if mapped:
                params[member] = mapped
        for name, member, reader in self.headers:
            raw = headers.get(name)
            if raw is not None:
                params[member] = _convert(reader, raw, member, name)
        if self.header_maps:
            items = headers.items()
            for prefix, member in self.header_maps:
                found = {k[len(prefix) :]: v for k, v in items if k.startswith(prefix)}
                if found:
                    params[member] = found
        return params


def _convert(reader: TextReader, raw: str, member: str, wire: str) -> Any:
    if reader is str:
        return raw
    try:
        return reader(raw)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadParam(member, wire, raw, "value") from exc


def _payload_kind(shape: Shape | None, payload: str | None) -> tuple[str, Shape | None]:
    if shape is None:
        return NONE, None
    if payload is not None:
        member = shape.members[payload]
        if member.serialization.get("eventstream"):
            return EVENTSTREAM, member
        if member.type_name == "blob":
            return (STREAM if member.serialization.get("streaming") else BLOB), member
        if member.type_name == "string":
            return STRING, member
        return STRUCTURE, member
    if any("location" not in m.serialization for m in shape.members.values()):
        return MEMBERS, shape
    return NONE, None


def compile_input_plan(operation: OperationModel) -> InputPlan:
    shape = operation.input_shape
    uri: list[tuple[str, str, TextReader]] = []
    query: list[tuple[str, str, TextReader, bool]] = []
    query_map: tuple[str, bool] | None = None
    headers: list[tuple[str, str, TextReader]] = []
    header_maps: list[tuple[str, str]] = []
    payload = shape.serialization.get("payload") if shape is not None else None
    for name, member in (shape.members.items() if shape is not None else ()):
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            uri.append((name, wire, text_reader(member)))
        elif location == "querystring":
            if member.type_name == "map":
                query_map = (name, member.value.type_name == "list")
            else:
                query.append((wire, name, text_reader(member), member.type_name == "list"))
        elif location == "header":
            headers.append((wire.lower(), name, text_reader(member, in_header=True)))
        elif location == "headers":
            header_maps.append((wire.lower(), name))
    kind, body_shape = _payload_kind(shape, payload)
    return InputPlan(
        operation=operation,
        uri=tuple(uri),
        query=tuple(query),
        query_map=query_map,
        headers=tuple(headers),
        header_maps=tuple(header_maps),
        payload_member=payload,
        payload_kind=kind,
        body_shape=body_shape,
        required=tuple(shape.required_members) if shape is not None else (),
    )


# --- output plans ------------------------------------------------------------------------------


@dataclass
class OutputPlan:
    operation: OperationModel
    status: int
    headers: tuple[tuple[str, str, TextWriter], ...]  # (member, header name, writer)
    header_maps: tuple[tuple[str, str], ...]  # (member, prefix)
    status_member: str | None
    payload_member: str | None
    payload_kind: str
    body_shape: Shape | None
    # set by the codec: (output dict) -> body bytes, for STRUCTURE and MEMBERS payloads
    body_writer: Callable[[Any], bytes] | None = None

    def write_located(self, output: Mapping[str, Any], headers: list[tuple[str, str]]) -> int:
        """Append header members to ``headers``; return the status (status-code member wins)."""
        for member, name, writer in self.headers:
            value = output.get(member)
            if value is not None:
                headers.append((name, writer(value)))
        for member, prefix in self.header_maps:
            mapping = output.get(member)
            if mapping:
                for key, value in mapping.items():
                    headers.append((prefix + key, str(value)))
        if self.status_member is not None:
            code = output.get(self.status_member)
            if code is not None:
                return int(code)
        return self.status


def compile_output_plan(operation: OperationModel) -> OutputPlan:
    shape = operation.output_shape
    headers: list[tuple[str, str, TextWriter]] = []
    header_maps: list[tuple[str, str]] = []
    status_member: str | None = None
    payload = shape.serialization.get("payload") if shape is not None else None
    for name, member in (shape.members.items() if shape is not None else ()):
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "header":
            headers.append((name, wire, text_writer(member)))
        elif location == "headers":
            header_maps.append((name, wire))
        elif location == "statusCode":
            status_member = name
    kind, body_shape = _payload_kind(shape, payload)
    if kind == STREAM:
        kind = BLOB  # output blobs are passed through whatever they are (bytes or async iterator)
    return OutputPlan(
        operation=operation,
        status=int(operation.http.get("responseCode", 200)),
        headers=tuple(headers),
        header_maps=tuple(header_maps),
        status_member=status_member,
        payload_member=payload,
        payload_kind=kind,
        body_shape=body_shape,
    )


def query_multidict(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Query pairs -> key: [values] in order (S3 subresources such as ``?uploads`` map to [""])."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        got = out.get(key)
        if got is None:
            out[key] = [value]
        else:
            got.append(value)
    return out
