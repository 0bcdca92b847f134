"""WriteBatch: a list of puts and deletes applied atomically by `DB.write_batch`."""

from __future__ import annotations

from collections.abc import Iterator


def as_bytes(data: object, what: str) -> bytes:
    """Keys and values are bytes; bytearray/memoryview are copied, anything else is refused."""
    if type(data) is bytes:
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes, not {type(data).__name__}")


class WriteBatch:
    """Ordered operations; a later operation on the same key wins. A value of None deletes."""

    __slots__ = ("ops",)

    def __init__(self) -> None:
        self.ops: list[tuple[bytes, bytes | None]] = []

    def put(self, key: bytes, value: bytes) -> WriteBatch:
        self.ops.append((as_bytes(key, "key"), as_bytes(value, "value")))
        return self

    def delete(self, key: bytes) -> WriteBatch:
        self.ops.append((as_bytes(key, "key"), None))
        return self

    def clear(self) -> None:
        self.ops.clear()

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Iterator[tuple[bytes, bytes | None]]:
        return iter(self.ops)
