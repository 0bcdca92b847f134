"""Errors raised by the LSM engine."""

from __future__ import annotations


class CorruptionError(Exception):
    """A file of the store failed its checksum or is structurally invalid.

    The message always names the file, so an operator knows what to restore or remove. The engine
    never answers from a file it could not verify: it raises this instead of returning wrong or
    missing data.
    """

    def __init__(self, path: object, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = str(path)
        self.detail = detail


class DBClosedError(RuntimeError):
    """An operation was attempted on a closed DB."""
