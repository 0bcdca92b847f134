"""XML bodies of the rest-xml protocol, compiled per shape into readers and writers.

Reading: the body is parsed once by ElementTree (C accelerated); a reader compiled for the target
shape turns the element tree into member values. A structure reader is a dict from child tag to
(member, reader, flattened?) so a node costs one lookup; namespaces are dropped from tags, as AWS
clients do. Attributes (S3 ``Grantee``'s ``xsi:type``) are read from the element's attributes.

Writing: a writer appends escaped strings to a list that is joined once; there is no element tree
and no generic emitter on the hot path (a 1000-key ListObjectsV2 is ~10k appends). Per structure,
member writers have their open/close tags baked in, iterated in model order. Timestamps in bodies
are iso8601 with milliseconds unless the member says otherwise; lists and maps follow the
``flattened`` and ``locationName`` traits exactly as botocore reads them.

Both compilers cache by shape name, so recursive shapes resolve through the cache lazily.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from typing import Any, Callable
from xml.etree import ElementTree

from botocore.model import Shape

from awsemu.protocol.timestamps import format_iso8601, format_timestamp, parse_timestamp

Reader = Callable[[ElementTree.Element], Any]
# (out, value) -> None: appends the element(s) for one member value
ElementWriter = Callable[[list[str], Any], None]
# (out, value) -> None: appends the inside of a structure (children only)
InnerWriter = Callable[[list[str], Any], None]

_NEEDS_ESCAPE = re.compile(r"[&<>\r\"]")


def escape(text: str) -> str:
    """XML-escape text or an attribute value (``\\r`` too, or a parser would turn it into ``\\n``).

    A regex search finds the rare strings that need it; chained ``str.replace`` (C loops) beats
    ``str.translate`` with multi-character targets by ~4x on short strings.
    """
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


_TEXT_NEEDS_ESCAPE = re.compile(r"[&<>\r]")


def escape_text(text: str) -> str:
    """XML-escape element text: like :func:`escape` but leaves ``"`` alone (ETags are full of it)."""
    if _TEXT_NEEDS_ESCAPE.search(text) is None:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def iso8601_ms(value: Any) -> str:
    """``2026-11-27T11:13:40.000Z``; aware-UTC datetimes (what providers hand us) take the C path."""
    if type(value) is datetime and value.tzinfo is timezone.utc:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return format_iso8601(value)


def local_tag(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def parse_document(body: bytes) -> ElementTree.Element:
    """Parse an XML document; raises ``ElementTree.ParseError`` when it is not well-formed."""
    parser = ElementTree.XMLParser()
    parser.feed(body)
    return parser.close()


# --- readers ----------------------------------------------------------------------------------


def _text(elem: ElementTree.Element) -> str:
    return elem.text or ""


def _scalar_reader(shape: Shape) -> Reader:
    t = shape.type_name
    if t == "string":
        return _text
    if t in ("integer", "long"):
        return lambda e: int(_text(e))
    if t == "boolean":

        def read_bool(e: ElementTree.Element) -> bool:
            text = _text(e).strip()
            if text == "true":
                return True
            if text == "false":
                return False
            raise ValueError(f"not a boolean: {text!r}")

        return read_bool
    if t in ("float", "double"):
        return lambda e: float(_text(e))
    if t == "timestamp":
        return lambda e: parse_timestamp(_text(e))
    if t == "blob":
        return lambda e: base64.b64decode(_text(e))
    raise TypeError(f"unsupported XML scalar type {t}")


class XmlReaders:
    """Compiles (and caches) element -> value readers for the shapes of one service."""

    def __init__(self) -> None:
        self._cache: dict[str, Reader] = {}

    def reader(self, shape: Shape) -> Reader:
        key = shape.name
        got = self._cache.get(key)
        if got is not None:
            return got
        # A forwarding stub first, so a recursive shape finds itself while being compiled.
        self._cache[key] = lambda e: self._cache[key](e)
        built = self._build(shape)
        self._cache[key] = built
        return built

    def _build(self, shape: Shape) -> Reader:
        t = shape.type_name
        if t == "structure":
            return self._structure(shape)
        if t == "list":
            item = self.reader(shape.member)
            return lambda e: [item(child) for child in e]
        if t == "map":
            return self._map(shape)
        return _scalar_reader(shape)

    def _structure(self, shape: Shape) -> Reader:
        children: dict[str, tuple[str, Reader, bool]] = {}
        attributes: list[tuple[str, str]] = []  # (member, attribute name as ElementTree keys it)
        ns = shape.serialization.get("xmlNamespace")
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue  # headers, URI, query: not in the body
            wire = member.serialization.get("name", name)
            if member.serialization.get("xmlAttribute"):
                prefix, _, local = wire.rpartition(":")
                uri = ns.get("uri") if isinstance(ns, dict) and ns.get("prefix") == prefix else None
                attr = f"{{{uri}}}{local}" if prefix and uri else wire
                attributes.append((name, attr))
                continue
            flat = member.type_name in ("list", "map") and bool(member.serialization.get("flattened"))
            if flat and member.type_name == "list":
                # botocore writes a flattened list under the member's name but reads it under
                # the list member's name when that has one: accept both.
                entry = (name, self.reader(member.member), True)
                children[wire] = entry
                children.setdefault(member.member.serialization.get("name", wire), entry)
            elif flat:
                children[wire] = (name, self._map_entry(member), True)
            else:
                children[wire] = (name, self.reader(member), False)

        def read_structure(elem: ElementTree.Element) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for child in elem:
                tag = child.tag
                if tag[:1] == "{":
                    tag = tag.rpartition("}")[2]
                entry = children.get(tag)
                if entry is None:
                    continue
                member, read, flat = entry
                if flat:
                    value = read(child)
                    if member in out:
                        if isinstance(value, tuple):
                            out[member][value[0]] = value[1]
                        else:
                            out[member].append(value)
                    else:
                        out[member] = dict([value]) if isinstance(value, tuple) else [value]
                else:
                    out[member] = read(child)
            for member, attr in attributes:
                value = elem.get(attr)
                if value is None:  # declared under another prefix/namespace: match the local name
                    local = local_tag(attr).rpartition(":")[2]
                    value = next((v for k, v in elem.attrib.items() if local_tag(k) == local), None)
                if value is not None:
                    out[member] = value
            return out

        return read_structure

    def _map_entry(self, shape: Shape) -> Callable[[ElementTree.Element], tuple[Any, Any]]:
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        read_key = self.reader(shape.key)
        read_value = self.reader(shape.value)

        def read_entry(entry: ElementTree.Element) -> tuple[Any, Any]:
            key: Any = None
            value: Any = None
            for part in entry:
                tag = local_tag(part.tag)
                if tag == key_tag:
                    key = read_key(part)
                elif tag == value_tag:
                    value = read_value(part)
            if key is None:
                raise ValueError(f"map entry without <{key_tag}>")
            return key, value

        return read_entry

    def _map(self, shape: Shape) -> Reader:
        read_entry = self._map_entry(shape)
        return lambda e: dict(read_entry(entry) for entry in e)


# --- writers ----------------------------------------------------------------------------------


def scalar_text(shape: Shape) -> Callable[[Any], str]:
    """Value -> escaped XML text for a scalar shape."""
    t = shape.type_name
    if t == "string":
        return lambda v: escape_text(v if isinstance(v, str) else str(v))
    if t == "boolean":
        return lambda v: "true" if v else "false"
    if t in ("integer", "long"):
        return lambda v: str(int(v))
    if t in ("float", "double"):
        return lambda v: repr(float(v))
    if t == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "iso8601")
        if fmt == "iso8601":
            return iso8601_ms
        return lambda v: str(format_timestamp(v, fmt))
    if t == "blob":
        return lambda v: base64.b64encode(v.encode() if isinstance(v, str) else v).decode()
    raise TypeError(f"unsupported XML scalar type {t}")


def namespace_attr(shape: Shape) -> str:
    """`` xmlns[:prefix]="uri"`` for a shape that declares an xmlNamespace, else ``""``."""
    ns = shape.serialization.get("xmlNamespace")
    if isinstance(ns, dict) and ns.get("uri"):
        name = f"xmlns:{ns['prefix']}" if ns.get("prefix") else "xmlns"
        return f' {name}="{escape(ns["uri"])}"'
    if isinstance(ns, str):
        return f' xmlns="{escape(ns)}"'
    return ""


class XmlWriters:
    """Compiles (and caches) value -> XML string writers for the shapes of one service."""

    def __init__(self, text_members: dict[str, str] | None = None,
                 interleaved: dict[str, list[str]] | None = None) -> None:
        # shape name -> member written as the element's own text (S3 GetBucketLocation, patch data)
        self._text_members = text_members or {}
        # shape name -> flattened list members written as one run, merged by each entry's
        # ``_position`` (S3 ListObjectVersions: versions and delete markers in key order, patch data)
        self._interleaved = interleaved or {}
        self._inner: dict[str, InnerWriter] = {}
        self._attrs: dict[str, Callable[[Any], str]] = {}

    def element(self, shape: Shape, tag: str, *, flattened_as: str | None = None) -> ElementWriter:
        """A writer of ``<tag>value</tag>`` for a member of this shape."""
        t = shape.type_name
        open_, close = f"<{tag}>", f"</{tag}>"
        if t == "structure":
            inner = self.inner(shape)
            attrs = self.attributes(shape)
            if attrs is None:
                ns = namespace_attr(shape)
                open_ = f"<{tag}{ns}>"

                def write_struct(out: list[str], v: Any) -> None:
                    out.append(open_)
                    inner(out, v)
                    out.append(close)

                return write_struct
            ns = namespace_attr(shape)

            def write_struct_attrs(out: list[str], v: Any) -> None:
                out.append(f"<{tag}{ns}{attrs(v)}>")
                inner(out, v)
                out.append(close)

            return write_struct_attrs
        if t == "list":
            member = shape.member
            if shape.serialization.get("flattened"):
                item = self.element(member, flattened_as or tag)

                def write_flat(out: list[str], v: Any) -> None:
                    for x in v:
                        item(out, x)

                return write_flat
            item = self.element(member, member.serialization.get("name", "member"))

            def write_list(out: list[str], v: Any) -> None:
                out.append(open_)
                for x in v:
                    item(out, x)
                out.append(close)

            return write_list
        if t == "map":
            key_w = self.element(shape.key, shape.key.serialization.get("name", "key"))
            val_w = self.element(shape.value, shape.value.serialization.get("name", "value"))
            flat = bool(shape.serialization.get("flattened"))

            def write_map(out: list[str], v: Any) -> None:
                if not flat:
                    out.append(open_)
                for k, x in v.items():
                    out.append(open_ if flat else "<entry>")
                    key_w(out, k)
                    val_w(out, x)
                    out.append(close if flat else "</entry>")
                if not flat:
                    out.append(close)

            return write_map
        text = scalar_text(shape)

        def write_scalar(out: list[str], v: Any) -> None:
            out.append(open_ + text(v) + close)

        return write_scalar

    def attributes(self, shape: Shape) -> Callable[[Any], str] | None:
        """`` name="value"`` for xmlAttribute members of a structure, or None when it has none."""
        if shape.name in self._attrs:
            return self._attrs[shape.name]
        members = [
            (name, m.serialization["name"])
            for name, m in shape.members.items()
            if m.serialization.get("xmlAttribute")
        ]
        if not members:
            return None

        def write_attrs(v: Any) -> str:
            return "".join(f' {wire}="{escape(str(v[n]))}"' for n, wire in members if v.get(n) is not None)

        self._attrs[shape.name] = write_attrs
        return write_attrs

    def inner(self, shape: Shape) -> InnerWriter:
        """A writer of the child elements of a structure (body members only, in model order)."""
        key = shape.name
        got = self._inner.get(key)
        if got is not None:
            return got
        self._inner[key] = lambda out, v: self._inner[key](out, v)
        text_name = self._text_members.get(shape.name)
        if text_name is not None:
            text = scalar_text(shape.members[text_name])

            def write_text(out: list[str], v: Any) -> None:
                value = v.get(text_name)
                if value is not None:
                    out.append(text(value))

            built: InnerWriter = write_text
        else:
            built = self._generate_inner(shape)
        self._inner[key] = built
        return built

    def _generate_inner(self, shape: Shape) -> InnerWriter:
        """Generate the structure writer as Python source: one ``get`` and one ``append`` per
        member with tags as literals, strings escaped inline only when the search finds a special
        character. Closures per member cost ~2x more calls on large listings (bench/protocol_rest)."""
        env: dict[str, Any] = {"_search": _TEXT_NEEDS_ESCAPE.search, "_esc": escape_text, "_iso": iso8601_ms, "_str": str}
        lines = ["def write_inner(out, v):", "    get = v.get", "    append = out.append"]
        group = self._interleaved.get(shape.name, [])
        for i, (name, member) in enumerate(shape.members.items()):
            ser = member.serialization
            if ser.get("location") or ser.get("xmlAttribute"):
                continue
            if name in group:
                if name == group[0]:
                    env["_merged"] = self._merged_writer(shape, group)
                    lines.append("    _merged(out, v)")
                continue
            tag = ser.get("name", name)
            open_, close = f"<{tag}>", f"</{tag}>"
            t = member.type_name
            fmt = ser.get("timestampFormat", "iso8601")
            lines.append(f"    x = get({name!r})")
            lines.append("    if x is not None:")
            if t == "string":
                # a non-str value (an Enum, a number) is str()-ed and escaped
                lines.append(
                    f"        append({open_!r} + ((x if _search(x) is None else _esc(x)) "
                    f"if x.__class__ is _str else _esc(_str(x))) + {close!r})"
                )
            elif t == "boolean":
                lines.append(f"        append({open_ + 'true' + close!r} if x else {open_ + 'false' + close!r})")
            elif t in ("integer", "long"):
                lines.append(f"        append({open_!r} + _str(int(x)) + {close!r})")
            elif t == "timestamp" and fmt == "iso8601":
                lines.append(f"        append({open_!r} + _iso(x) + {close!r})")
            else:
                flat_tag = member.member.serialization.get("name", tag) if t == "list" else None
                env[f"_w{i}"] = self.element(member, tag, flattened_as=flat_tag)
                lines.append(f"        _w{i}(out, x)")
        if len(lines) == 3:
            lines.append("    return None")
        exec(compile("\n".join(lines), f"<xml writer {shape.name}>", "exec"), env)  # noqa: S102
        writer: InnerWriter = env["write_inner"]
        return writer

    def _merged_writer(self, shape: Shape, names: list[str]) -> InnerWriter:
        """Writes the entries of several flattened list members as one run ordered by ``_position``."""
        writers = {}
        for name in names:
            member = shape.members[name]
            tag = member.serialization.get("name", name)
            writers[name] = self.element(member.member, member.member.serialization.get("name", tag))

        def write_merged(out: list[str], v: Any) -> None:
            entries = [(x.get("_position", 0), name, x) for name in names for x in v.get(name) or ()]
            entries.sort(key=lambda e: e[0])
            for _, name, x in entries:
                writers[name](out, x)

        return write_merged

