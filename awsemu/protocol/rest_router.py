"""Compiled URI-template routing for the REST protocols (S3, Lambda): request -> operation.

Every operation of a REST service carries ``http.method`` and ``http.requestUri``, a template such
as ``/{Bucket}/{Key+}?uploads`` or ``/2015-03-31/functions/{FunctionName}/aliases``. At start the
router compiles each template once into a path regex and the query/header facts that must hold:

- literal query keys of the template (``?uploads``, ``?list-type=2``, ``?select&select-type=2``);
- required input members located in the query string (UploadPart needs ``partNumber`` and
  ``uploadId``) or in headers (CopyObject needs ``x-amz-copy-source``).

Many S3 operations share method and path (PutObject, UploadPart, UploadPartCopy, CopyObject are all
``PUT /{Bucket}/{Key+}``), so the candidates of a path are ranked, like LocalStack's op router does:
every satisfied requirement scores, deprecated operations lose ties, and an explicit priority from
the model (``http.awsemuRoutePriority``, patch data) settles what the model alone cannot
(``GET /`` is both ListBuckets and ListDirectoryBuckets). The first candidate whose requirements all
hold wins; candidates are pre-sorted, so a request costs a few regex matches and set lookups.

Paths are matched raw (still percent-encoded), so ``%2F``, ``//`` and a trailing ``/`` inside an S3
key survive; labels are percent-decoded only after matching. A greedy label (``{Key+}``) spans
slashes; others stop at ``/``. A template that does not end in a greedy label also accepts one
trailing ``/`` (``/bucket/`` is the bucket, not an empty key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    """One operation's compiled template and the requirements that pick it among its siblings."""

    operation: OperationModel
    method: str
    template: str
    path_regex: re.Pattern[str]
    # regex group name -> input member name
    labels: tuple[tuple[str, str], ...]
    # literal query from the template: key -> required value (None: any value, key present)
    literal_query: tuple[tuple[str, str | None], ...]
    required_query: frozenset[str]
    required_headers: frozenset[str]
    # every query key the operation understands: breaks ties between wire-identical siblings
    known_query: frozenset[str]
    # (literal path segments, requirements met): more specific routes rank higher
    rank: tuple[int, int] = field(compare=False)
    # rank, then explicit priority, then not-deprecated: the default among equals
    order: tuple[int, ...] = field(compare=False)

    def accepts(self, query: Mapping[str, Sequence[str]], headers: Mapping[str, str] | object) -> bool:
        for key, value in self.literal_query:
            got = query.get(key)
            if got is None or (value is not None and value not in got):
                return False
        for key in self.required_query:
            if key not in query:
                return False
        for name in self.required_headers:
            if name not in headers:  # type: ignore[operator]
                return False
        return True

    def labels_of(self, match: re.Match[str]) -> dict[str, str]:
        """URI member values of a path match, percent-decoded (``+`` stays ``+`` in paths)."""
        return {member: _decode_label(match.group(group)) for group, member in self.labels}


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    uri_params: dict[str, str]


def _compile_template(path: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...], bool]:
    parts: list[str] = []
    labels: list[tuple[str, str]] = []
    pos = 0
    greedy_end = False
    for i, m in enumerate(_LABEL.finditer(path)):
        parts.append(re.escape(path[pos : m.start()]))
        name = m.group(1)
        group = f"g{i}"
        if name.endswith("+"):
            parts.append(f"(?P<{group}>.+)")
            name = name[:-1]
            greedy_end = m.end() == len(path)
        else:
            parts.append(f"(?P<{group}>[^/]+)")
        labels.append((group, name))
        pos = m.end()
    parts.append(re.escape(path[pos:]))
    pattern = "".join(parts)
    if not greedy_end and not path.endswith("/"):
        pattern += "/?"
    return re.compile(pattern + r"\Z"), tuple(labels), greedy_end


def _decode_label(raw: str) -> str:
    if not raw.isascii():
        # unescaped UTF-8 bytes in the path, decoded as latin-1 by the ASGI layer: undo that
        try:
            raw = raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unquote(raw)


def _overlap(route: Route, query: Mapping[str, Sequence[str]]) -> int:
    return sum(1 for key in query if key in route.known_query)


def _literal_query(query: str) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        out.append((key, value if eq else None))
    return tuple(out)


def compile_route(operation: OperationModel) -> Route:
    http = operation.http
    path, _, query = http["requestUri"].partition("?")
    regex, labels, _ = _compile_template(path)
    required_query: set[str] = set()
    required_headers: set[str] = set()
    literal = _literal_query(query)
    known_query = {key for key, _ in literal}
    shape = operation.input_shape
    if shape is not None:
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            required = name in shape.required_members
            if location == "querystring" and member.type_name != "map":
                known_query.add(wire)
                if required:
                    required_query.add(wire)
            elif location == "header" and required:
                required_headers.add(wire.lower())
    literal_segments = sum(1 for seg in path.split("/") if seg and "{" not in seg)
    rank = (literal_segments, len(literal) + len(required_query) + len(required_headers))
    order = rank + (int(http.get("awsemuRoutePriority", 0)), 0 if operation.deprecated else 1)
    return Route(
        operation=operation,
        method=http["method"].upper(),
        template=http["requestUri"],
        path_regex=regex,
        labels=labels,
        literal_query=literal,
        required_query=frozenset(required_query),
        required_headers=frozenset(required_headers),
        known_query=frozenset(known_query),
        rank=rank,
        order=order,
    )


class RestRouter:
    """All routes of one service, grouped by method and by path template, best candidates first."""

    def __init__(self, service_model: ServiceModel) -> None:
        routes = [compile_route(service_model.operation_model(n)) for n in service_model.operation_names]
        # method -> [(path regex, candidates sorted best first)], most specific paths first
        by_method: dict[str, dict[str, list[Route]]] = {}
        for route in routes:
            path = route.template.partition("?")[0]
            by_method.setdefault(route.method, {}).setdefault(path, []).append(route)
        self._table: dict[str, list[tuple[re.Pattern[str], list[Route]]]] = {}
        for method, paths in by_method.items():
            entries = []
            for group in paths.values():
                group.sort(key=lambda r: r.order, reverse=True)
                entries.append((group[0].path_regex, group))
            entries.sort(key=lambda e: e[1][0].rank[0], reverse=True)
            self._table[method] = entries
        self.routes: tuple[Route, ...] = tuple(routes)
        self._by_name = {route.operation.name: route for route in routes}
        # wire-identical siblings (same method, path, literal query and requirements): only the
        # query keys each understands can tell them apart
        groups: dict[tuple[object, ...], list[Route]] = {}
        for route in routes:
            key = (route.method, route.template.partition("?")[0], route.literal_query,
                   route.required_query, route.required_headers)
            groups.setdefault(key, []).append(route)
        self._twins: dict[str, tuple[Route, ...]] = {
            r.operation.name: tuple(t for t in group if t is not r) for group in groups.values() for r in group
        }

    def match(
        self, method: str, raw_path: str, query: Mapping[str, Sequence[str]], headers: object
    ) -> RouteMatch | None:
        """The best route for a request, or None. ``headers`` needs only ``in`` (lower-case names).

        Newer SDKs add ``?x-id=<Operation>`` to S3 requests; when it names an operation that fits
        the request, it settles the choice (e.g. ListDirectoryBuckets vs ListBuckets)."""
        hint = query.get("x-id")
        if hint:
            route = self._by_name.get(hint[-1])
            if route is not None and route.method == method:
                m = route.path_regex.match(raw_path)
                if m is not None and route.accepts(query, headers):
                    return RouteMatch(route, route.labels_of(m))
        best: tuple[Route, re.Match[str]] | None = None
        for regex, candidates in self._table.get(method, ()):
            m = regex.match(raw_path)
            if m is None:
                continue
            chosen = next((route for route in candidates if route.accepts(query, headers)), None)
            if chosen is not None and query:
                for twin in self._twins[chosen.operation.name]:
                    if _overlap(twin, query) > _overlap(chosen, query):
                        chosen = twin
            if chosen is not None and (best is None or chosen.order > best[0].order):
                best = (chosen, m)
        if best is None:
            return None
        return RouteMatch(best[0], best[0].labels_of(best[1]))

    def methods_for_path(self, raw_path: str) -> list[str]:
        """Methods some operation answers on this path: tells 405 from 501/404 on a miss."""
        return sorted(
            method
            for method, entries in self._table.items()
            if any(regex.match(raw_path) for regex, _ in entries)
        )
