"""Expression trees, after alias substitution: paths hold real attribute names, values real values.

A path is a tuple of elements: ``str`` for a map key / attribute name, ``int`` for a list index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

PathElems = tuple[Union[str, int], ...]


@dataclass(frozen=True, slots=True)
class Path:
    elems: PathElems

    def display(self) -> str:
        """DynamoDB's rendering in overlap errors: ``[a, b, [0]]``."""
        return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in self.elems) + "]"


@dataclass(frozen=True, slots=True)
class Value:
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    """A function: size/if_not_exists/list_append as operands, the others as conditions."""

    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # "+" or "-"
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Between:
    subject: Any
    low: Any
    high: Any


@dataclass(frozen=True, slots=True)
class In:
    subject: Any
    candidates: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Or:
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Not:
    operand: Any


@dataclass
class UpdateActions:
    set: list[tuple[Path, Any]] = field(default_factory=list)
    remove: list[Path] = field(default_factory=list)
    add: list[tuple[Path, Value]] = field(default_factory=list)
    delete: list[tuple[Path, Value]] = field(default_factory=list)

    def targets(self) -> list[Path]:
        return [p for p, _ in self.set] + list(self.remove) + [p for p, _ in self.add] + [p for p, _ in self.delete]
