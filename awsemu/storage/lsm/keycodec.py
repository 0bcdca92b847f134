"""Order-preserving encoding of key tuples: byte order of encodings == natural order of tuples.

Every service builds its keys here, so that a range query is a plain scan of the engine and the
order of results is AWS's order. Each part starts with a type tag; parts are self-delimiting, so
tuples compose: (a, b) < (a, c) iff b < c, and a tuple sorts before its extensions.

Parts (tag, then body):

  None     0x05                  (sorts before everything else)
  bytes    0x10, body escaped    unsigned byte order, like DynamoDB binary
  str      0x20, UTF-8 escaped   UTF-8 byte order == code point order, like DynamoDB strings
  int      0x30, sign/length     any size up to 127 bytes of magnitude; numeric order
  Decimal  0x40, number          DynamoDB numbers, numeric order across sign and exponent

Escaping (bytes and str): 0x00 becomes 0x00 0xFF and the body ends with a single 0x00. A shorter
string therefore meets its terminator (0x00, followed by a tag < 0xFF or the end of the key) where
a longer one continues with a byte >= 0x01 or with 0x00 0xFF: shorter sorts first.

Integers: zero is 0x80; a positive n is (0x80 + L) followed by its L-byte big-endian magnitude; a
negative n is (0x80 - L) followed by the L-byte complement (2^(8L) - 1 - |n|). Longer magnitudes
sort further from zero, equal lengths compare byte-wise.

Numbers (Decimal, DynamoDB "N"): class byte 0x01 negative / 0x02 zero / 0x03 positive. A nonzero
value is written as 0.d1d2d3... x 10^E with d1 != 0 and no trailing zeros, so its order is
(E, digits) for positives. E is stored as u16 big-endian biased by 0x8000; digits in pairs, each
pair p (00..99, the last padded with 0) as the byte p + 1, then the terminator 0x00. For negatives
E and every pair byte are inverted (0xFFFF - biased E, 0xFE - p) and the terminator is 0xFF, which
reverses the order. DynamoDB allows 38 significant digits and magnitudes from 1e-130 to below
1e126; this codec accepts any finite Decimal (validation is the service's job), so equal numbers
written differently ("1.0", "1", "10E-1") encode identically and decode to the same Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Union

Part = Union[None, bytes, str, int, Decimal]

TAG_NONE = 0x05
TAG_BYTES = 0x10
TAG_STR = 0x20
TAG_INT = 0x30
TAG_NUMBER = 0x40

_NEG, _ZERO, _POS = 0x01, 0x02, 0x03
_EXP_BIAS = 0x8000
_MAX_INT_BYTES = 127


def _escape(data: bytes) -> bytes:
    return data.replace(b"\x00", b"\x00\xff") + b"\x00"


def _encode_int(n: int) -> bytes:
    if n == 0:
        return b"\x80"
    magnitude = abs(n)
    length = (magnitude.bit_length() + 7) // 8
    if length > _MAX_INT_BYTES:
        raise ValueError("integer too large for the key codec (more than 127 bytes)")
    if n > 0:
        return bytes((0x80 + length,)) + magnitude.to_bytes(length, "big")
    return bytes((0x80 - length,)) + ((1 << (8 * length)) - 1 - magnitude).to_bytes(length, "big")


def _encode_decimal(value: Decimal) -> bytes:
    if not value.is_finite():
        raise ValueError(f"cannot encode non-finite number {value}")
    if value.is_zero():
        return bytes((_ZERO,))
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    digit_list = list(digits)
    while digit_list and digit_list[-1] == 0:  # canonical: no trailing zeros
        digit_list.pop()
        exponent += 1
    e = len(digit_list) + exponent  # value = 0.d1d2... x 10^e
    biased = e + _EXP_BIAS
    if not 0 <= biased <= 0xFFFF:
        raise ValueError(f"number exponent out of range: {value}")
    if len(digit_list) % 2:
        digit_list.append(0)
    pairs = [digit_list[i] * 10 + digit_list[i + 1] for i in range(0, len(digit_list), 2)]
    if sign == 0:
        return bytes((_POS, biased >> 8, biased & 0xFF, *[p + 1 for p in pairs], 0x00))
    inverted = 0xFFFF - biased
    return bytes((_NEG, inverted >> 8, inverted & 0xFF, *[0xFE - p for p in pairs], 0xFF))


def encode_part(part: Part) -> bytes:
    if part is None:
        return bytes((TAG_NONE,))
    if isinstance(part, bytes):
        return bytes((TAG_BYTES,)) + _escape(part)
    if isinstance(part, str):
        return bytes((TAG_STR,)) + _escape(part.encode("utf-8"))
    if isinstance(part, bool):
        raise TypeError("bool is not a key part (use int explicitly)")
    if isinstance(part, int):
        return bytes((TAG_INT,)) + _encode_int(part)
    if isinstance(part, Decimal):
        return bytes((TAG_NUMBER,)) + _encode_decimal(part)
    if isinstance(part, (bytearray, memoryview)):
        return bytes((TAG_BYTES,)) + _escape(bytes(part))
    raise TypeError(f"unsupported key part type {type(part).__name__}")


def encode(*parts: Part) -> bytes:
    """Encode a tuple of parts; encode(a, b) == encode(a) + encode(b)."""
    return b"".join([encode_part(p) for p in parts])


def encode_number(text: str) -> bytes:
    """Encode a DynamoDB number given as its string form (e.g. "-1.5E+10")."""
    return encode_part(Decimal(text))


def prefix_end(prefix: bytes) -> bytes | None:
    """Smallest key greater than every key that starts with `prefix` (None if there is none).

    Use as the exclusive end of a scan over all keys with that prefix.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def _unescape(data: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while True:
        zero = data.find(b"\x00", pos)
        if zero < 0:
            raise ValueError("unterminated string or bytes part")
        out += data[pos:zero]
        if zero + 1 < len(data) and data[zero + 1] == 0xFF:
            out.append(0)
            pos = zero + 2
        else:
            return bytes(out), zero + 1


def _decode_int(data: bytes, pos: int) -> tuple[int, int]:
    marker = data[pos]
    pos += 1
    if marker == 0x80:
        return 0, pos
    if marker > 0x80:
        length = marker - 0x80
        _check_room(data, pos, length)
        return int.from_bytes(data[pos : pos + length], "big"), pos + length
    length = 0x80 - marker
    _check_room(data, pos, length)
    complement = int.from_bytes(data[pos : pos + length], "big")
    return -((1 << (8 * length)) - 1 - complement), pos + length


def _check_room(data: bytes, pos: int, length: int) -> None:
    if pos + length > len(data):
        raise ValueError("truncated key part")


def _decode_decimal(data: bytes, pos: int) -> tuple[Decimal, int]:
    cls = data[pos]
    pos += 1
    if cls == _ZERO:
        return Decimal(0), pos
    if cls not in (_NEG, _POS):
        raise ValueError(f"bad number class byte {cls:#x}")
    _check_room(data, pos, 2)
    biased = (data[pos] << 8) | data[pos + 1]
    pos += 2
    negative = cls == _NEG
    terminator = 0xFF if negative else 0x00
    end = data.find(bytes((terminator,)), pos)
    if end < 0:
        raise ValueError("unterminated number part")
    digits: list[int] = []
    for b in data[pos:end]:
        pair = 0xFE - b if negative else b - 1
        digits.extend(divmod(pair, 10))
    if negative:
        biased = 0xFFFF - biased
    while digits and digits[-1] == 0:
        digits.pop()
    exponent = biased - _EXP_BIAS - len(digits)
    if 0 < exponent <= 38:  # present whole numbers as 100, not 1E+2
        digits.extend([0] * exponent)
        exponent = 0
    return Decimal((1 if negative else 0, tuple(digits), exponent)), end + 1


def decode(data: bytes) -> tuple[Part, ...]:
    """Decode bytes made by `encode` back into the tuple of parts."""
    parts: list[Part] = []
    pos = 0
    n = len(data)
    while pos < n:
        tag = data[pos]
        pos += 1
        if tag == TAG_NONE:
            parts.append(None)
        elif tag == TAG_BYTES:
            raw, pos = _unescape(data, pos)
            parts.append(raw)
        elif tag == TAG_STR:
            raw, pos = _unescape(data, pos)
            parts.append(raw.decode("utf-8"))
        elif tag == TAG_INT:
            _check_room(data, pos, 1)
            value, pos = _decode_int(data, pos)
            parts.append(value)
        elif tag == TAG_NUMBER:
            _check_room(data, pos, 1)
            number, pos = _decode_decimal(data, pos)
            parts.append(number)
        else:
            raise ValueError(f"unknown key part tag {tag:#x} at offset {pos - 1}")
    return tuple(parts)
