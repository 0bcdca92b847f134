"""The item formats of table exports and imports (DynamoDB developer guide, "DynamoDB table
export output format" and "Amazon S3 import formats for DynamoDB").

- DYNAMODB_JSON: JSON lines, one ``{"Item": {...}}`` per line, each item in DynamoDB's marshalled
  JSON (binaries base64). Written by exports, read by imports.
- ION: Ion text, one line per item, each starting with the version marker:
  ``$ion_1_0 {Item:{"name":"value",...}}``. Strings are Ion strings, numbers Ion decimals
  (``6d2``), binaries blobs (``{{base64}}``), sets lists annotated ``$dynamodb_SS``/``NS``/``BS``,
  lists lists, maps structs. Imports read Ion text with :class:`IonReader`, a small reader of
  the part of Ion text that holds DynamoDB items (structs, lists, strings, symbols, numbers,
  blobs, booleans, nulls, annotations, comments); timestamps, clobs and s-expressions are not
  items and make the record bad.
- CSV (import only): the first line is the header unless a HeaderList is given; the key
  attributes of the table and of its indexes take their AttributeDefinitions types, every other
  column is a String ("all columns other than the hash range and keys of your base table and
  secondary indexes are imported as DynamoDB strings"). An empty cell is no attribute.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from decimal import Decimal
from typing import Any, Iterator

from awsemu.services.base import ServiceError
from awsemu.services.dynamodb.attribute_values import canonical_number, parse_number

Item = dict[str, dict[str, Any]]


class BadRecord(ValueError):
    """A line (or CSV row) that cannot be made into an item."""


def _binary_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot export {type(value).__name__}")


def json_line(item: Item) -> str:
    return json.dumps({"Item": item}, separators=(",", ":"), ensure_ascii=False, default=_binary_text)


def parse_json_line(line: str) -> Any:
    """The ``Item`` member of one DYNAMODB_JSON line (not yet validated as an item)."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise BadRecord(f"Unexpected token in JSON: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get("Item"), dict):
        raise BadRecord("The line does not hold an Item object")
    return record["Item"]


# --- Ion text -----------------------------------------------------------------------------------


def _ion_string(text: str) -> str:
    # JSON string escapes (\" \\ \n \t \uXXXX for control characters) are all Ion escapes too;
    # everything else is written as UTF-8, which Ion text allows.
    return json.dumps(text, ensure_ascii=False)


def _ion_decimal(text: str) -> str:
    sign, digits, exponent = Decimal(text).normalize().as_tuple()
    coefficient = "".join(str(d) for d in digits) or "0"
    return ("-" if sign else "") + f"{coefficient}d{exponent}"


def _ion_blob(raw: bytes) -> str:
    return "{{" + base64.b64encode(raw).decode("ascii") + "}}"


def _ion_value(value: dict[str, Any]) -> str:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return _ion_string(raw)
    if kind == "N":
        return _ion_decimal(raw)
    if kind == "B":
        return _ion_blob(raw)
    if kind == "BOOL":
        return "true" if raw else "false"
    if kind == "NULL":
        return "null"
    if kind == "SS":
        return "$dynamodb_SS::[" + ",".join(_ion_string(s) for s in raw) + "]"
    if kind == "NS":
        return "$dynamodb_NS::[" + ",".join(_ion_decimal(n) for n in raw) + "]"
    if kind == "BS":
        return "$dynamodb_BS::[" + ",".join(_ion_blob(b) for b in raw) + "]"
    if kind == "L":
        return "[" + ",".join(_ion_value(v) for v in raw) + "]"
    if kind == "M":
        return _ion_struct(raw)
    raise ValueError(f"unknown attribute type {kind}")


def _ion_struct(attributes: dict[str, Any]) -> str:
    return "{" + ",".join(f"{_ion_string(name)}:{_ion_value(v)}" for name, v in attributes.items()) + "}"


def ion_line(item: Item) -> str:
    return "$ion_1_0 {Item:" + _ion_struct(item) + "}"


class IonReader:
    """Top-level Ion text values of one object, each turned into an item (its ``Item`` field)."""

    _SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.S)
    _SYMBOL = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
    _NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[dDeE][-+]?[0-9]+)?|inf|nan)")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def items(self) -> Iterator[Any]:
        while True:
            self._skip()
            if self.pos >= len(self.text):
                return
            marker = re.compile(r"\$ion_1_0(?![A-Za-z0-9_$])").match(self.text, self.pos)
            if marker is not None:  # the version marker before each item
                self.pos = marker.end()
                continue
            value = self._value()[1]
            if not isinstance(value, dict) or "M" not in value or "Item" not in value["M"] or "M" not in value["M"]["Item"]:
                raise BadRecord("The Ion value does not hold an Item struct")
            yield value["M"]["Item"]["M"]

    def _fail(self, what: str) -> BadRecord:
        return BadRecord(f"Invalid Ion text at offset {self.pos}: {what}")

    def _skip(self) -> None:
        self.pos = self._SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def _peek(self, literal: str) -> bool:
        return self.text.startswith(literal, self.pos)

    def _expect(self, literal: str) -> None:
        self._skip()
        if not self._peek(literal):
            raise self._fail(f"expected {literal!r}")
        self.pos += len(literal)

    def _name(self) -> str:
        """A symbol (identifier or 'quoted') or a string: a field name or an annotation."""
        self._skip()
        if self._peek('"') or self._peek("'"):
            return self._quoted()
        match = self._SYMBOL.match(self.text, self.pos)
        if match is None:
            raise self._fail("expected a name")
        self.pos = match.end()
        return match.group()

    def _quoted(self) -> str:
        if self._peek("'''"):
            parts = []
            while self._peek("'''"):
                end = self.text.find("'''", self.pos + 3)
                if end < 0:
                    raise self._fail("unterminated long string")
                parts.append(self._unescape(self.text[self.pos + 3:end]))
                self.pos = end + 3
                self._skip()
            return "".join(parts)
        quote = self.text[self.pos]
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != quote:
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self._fail("unterminated string")
        raw, self.pos = self.text[self.pos + 1:end], end + 1
        return self._unescape(raw)

    _ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|\r?\n|.)", re.S)
    _SIMPLE = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "v": "\v", "?": "?", "0": "\0",
               "'": "'", '"': '"', "/": "/", "\\": "\\"}

    def _unescape(self, raw: str) -> str:
        if "\\" not in raw:
            return raw

        def one(match: re.Match[str]) -> str:
            code = match.group(1)
            if code[0] in "xuU" and len(code) > 1:
                return chr(int(code[1:], 16))
            if code in ("\n", "\r\n"):
                return ""  # a line continuation
            if code not in self._SIMPLE:
                raise self._fail(f"bad escape \\{code}")
            return self._SIMPLE[code]

        text = self._ESCAPE.sub(one, raw)
        # \uD83D\uDE00 (a surrogate pair, as JSON-minded writers put it) is one character
        return text.encode("utf-16", "surrogatepass").decode("utf-16")

    def _value(self) -> tuple[list[str], Any]:
        annotations: list[str] = []
        while True:
            self._skip()
            start = self.pos
            if self._SYMBOL.match(self.text, self.pos) or self._peek("'") and not self._peek("'''"):
                name = self._name()
                self._skip()
                if self._peek("::"):
                    self.pos += 2
                    annotations.append(name)
                    continue
                self.pos = start
            break
        return annotations, self._bare(annotations)

    def _bare(self, annotations: list[str]) -> Any:
        text, pos = self.text, self.pos
        if text.startswith("{{", pos):
            end = text.find("}}", pos)
            if end < 0:
                raise self._fail("unterminated blob")
            self.pos = end + 2
            try:
                return {"B": base64.b64decode("".join(text[pos + 2:end].split()), validate=True)}
            except ValueError:
                raise self._fail("bad blob") from None
        if text.startswith("{", pos):
            self.pos += 1
            fields: dict[str, Any] = {}
            while not self._at("}"):
                name = self._name()
                self._expect(":")
                fields[name] = self._value()[1]
                if not self._at("}"):
                    self._expect(",")
            self.pos += 1
            return {"M": fields}
        if text.startswith("[", pos):
            self.pos += 1
            members: list[Any] = []
            while not self._at("]"):
                members.append(self._value()[1])
                if not self._at("]"):
                    self._expect(",")
            self.pos += 1
            return self._list(annotations, members)
        if text.startswith('"', pos) or text.startswith("'''", pos):
            return {"S": self._quoted()}
        number = self._NUMBER.match(text, pos)
        if number is not None and number.group() not in ("inf", "nan"):
            self.pos = number.end()
            return {"N": self._number(number.group())}
        name = self._name()
        if name == "null":
            if self._peek("."):
                self.pos += 1
                self._name()
            return {"NULL": True}
        if name in ("true", "false"):
            return {"BOOL": name == "true"}
        return {"S": name}  # a symbol value: its text

    def _at(self, closer: str) -> bool:
        self._skip()
        if self.pos >= len(self.text):
            raise self._fail(f"expected {closer!r}")
        return self._peek(closer)

    def _number(self, text: str) -> str:
        clean = text.replace("_", "")
        try:
            if clean.lower().lstrip("+-").startswith(("0x", "0b")):
                return str(int(clean, 0))
            return canonical_number(str(Decimal(clean.replace("d", "e").replace("D", "e"))))
        except (ValueError, ArithmeticError, ServiceError):
            raise self._fail(f"bad number {text!r}") from None

    def _list(self, annotations: list[str], members: list[Any]) -> dict[str, Any]:
        kinds = {"$dynamodb_SS": ("SS", "S"), "$dynamodb_NS": ("NS", "N"), "$dynamodb_BS": ("BS", "B")}
        for annotation in annotations:
            if annotation in kinds:
                kind, member = kinds[annotation]
                if any(member not in m for m in members):
                    raise self._fail(f"a {kind} set holds a value of another type")
                return {kind: [m[member] for m in members]}
        return {"L": members}


# --- CSV ----------------------------------------------------------------------------------------


def _typed(name: str, text: str, kind: str) -> dict[str, Any]:
    if kind == "N":
        try:
            return {"N": str(parse_number(text))}
        except Exception:
            raise BadRecord(f"The value of {name} is not a number: {text!r}") from None
    if kind == "B":
        try:
            return {"B": base64.b64decode(text, validate=True)}
        except ValueError:
            raise BadRecord(f"The value of {name} is not base64: {text!r}") from None
    return {"S": text}


def csv_items(text: str, delimiter: str, header: list[str] | None, key_types: dict[str, str]) -> Iterator[Item]:
    """Items of one CSV object, in order; a row that cannot be an item raises :class:`BadRecord`
    when it is reached (the rows before it have been yielded)."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    names = list(header) if header else None
    try:
        for row in rows:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank lines are neither items nor errors
            if names is None:
                names = row
                continue
            if len(row) != len(names):
                raise BadRecord(f"The row has {len(row)} columns, the header {len(names)}")
            item: Item = {}
            for name, cell in zip(names, row):
                if cell == "":
                    continue
                item[name] = _typed(name, cell, key_types.get(name, "S"))
            yield item
    except csv.Error as exc:
        raise BadRecord(f"Malformed CSV: {exc}") from None
