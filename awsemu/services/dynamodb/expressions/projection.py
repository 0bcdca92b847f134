"""ProjectionExpression / AttributesToGet: keep only the named document paths of an item.

List elements picked by index keep their relative order (``a[2], a[0]`` gives ``[a0, a2]``), as
DynamoDB returns them; a path that does not resolve contributes nothing.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.dynamodb.expressions.ast import Path
from awsemu.services.dynamodb.expressions.evaluate import resolve_path

Item = dict[str, dict[str, Any]]


def project(item: Item, paths: list[Path]) -> Item:
    if all(len(p.elems) == 1 for p in paths):
        return {p.elems[0]: item[p.elems[0]] for p in paths if p.elems[0] in item}  # type: ignore[index]
    tree: dict[Any, Any] = {}
    for path in paths:
        value = resolve_path(item, path.elems)
        if value is None:
            continue
        node = tree
        for depth, elem in enumerate(path.elems[:-1]):
            nxt = path.elems[depth + 1]
            node = node.setdefault(elem, {"__list__": isinstance(nxt, int), "children": {}})["children"]
        node[path.elems[-1]] = {"value": value}
    return {name: _build(entry) for name, entry in tree.items()}


def _build(entry: dict[str, Any]) -> dict[str, Any]:
    if "value" in entry:
        return entry["value"]
    children = entry["children"]
    if entry["__list__"]:
        return {"L": [_build(children[i]) for i in sorted(children)]}
    return {"M": {k: _build(v) for k, v in children.items()}}
