"""Consumed capacity, computed as DynamoDB computes it (developer guide, "Read/write capacity mode").

Reads: one unit per 4 KB (rounded up) strongly consistent, half that eventually consistent; a
read of a missing item still costs the minimum. A Query or Scan sums the sizes of all items it
read (before the filter) and rounds once. Writes: one unit per 1 KB, rounded up, of the larger of
the old and new item. Transactions cost double. Each index written costs its own write units.
"""

from __future__ import annotations

import math
from typing import Any


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


class CapacityMeter:
    """Accumulates the units of one request and renders ConsumedCapacity for ReturnConsumedCapacity."""

    def __init__(self, mode: str | None) -> None:
        self.mode = mode if mode in ("TOTAL", "INDEXES") else None
        self.tables: dict[str, dict[str, float]] = {}

    def _entry(self, table: str) -> dict[str, Any]:
        return self.tables.setdefault(table, {"read": 0.0, "write": 0.0, "indexes": {}})  # type: ignore[dict-item]

    def read(self, table: str, units: float, index: str | None = None, is_global: bool = True) -> None:
        entry = self._entry(table)
        if index is None:
            entry["read"] += units
        else:
            kind = "GlobalSecondaryIndexes" if is_global else "LocalSecondaryIndexes"
            idx = entry["indexes"].setdefault((kind, index), {"read": 0.0, "write": 0.0})
            idx["read"] += units

    def write(self, table: str, units: float, index: str | None = None, is_global: bool = True) -> None:
        entry = self._entry(table)
        if index is None:
            entry["write"] += units
        else:
            kind = "GlobalSecondaryIndexes" if is_global else "LocalSecondaryIndexes"
            idx = entry["indexes"].setdefault((kind, index), {"read": 0.0, "write": 0.0})
            idx["write"] += units

    def render(self, table: str) -> dict[str, Any] | None:
        if self.mode is None:
            return None
        entry = self._entry(table)
        return self._render_entry(table, entry)

    def render_all(self) -> list[dict[str, Any]] | None:
        if self.mode is None:
            return None
        return [self._render_entry(name, entry) for name, entry in self.tables.items()]

    def _render_entry(self, table: str, entry: dict[str, Any]) -> dict[str, Any]:
        # The top-level figures are totals over the table and its indexes.
        read, write = entry["read"], entry["write"]
        for idx in entry["indexes"].values():
            read += idx["read"]
            write += idx["write"]
        out: dict[str, Any] = {"TableName": table, "CapacityUnits": read + write}
        if read:
            out["ReadCapacityUnits"] = read
        if write:
            out["WriteCapacityUnits"] = write
        if self.mode == "INDEXES":
            out["Table"] = _units(entry["read"], entry["write"])
            for (kind, name), idx in entry["indexes"].items():
                out.setdefault(kind, {})[name] = _units(idx["read"], idx["write"])
        return out


def _units(read: float, write: float) -> dict[str, float]:
    out = {"CapacityUnits": read + write}
    if read:
        out["ReadCapacityUnits"] = read
    if write:
        out["WriteCapacityUnits"] = write
    return out
