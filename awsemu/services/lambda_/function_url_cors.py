"""CORS on function URLs: the URL config's ``Cors`` applied as Lambda applies it, as pure functions.

- A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) on a URL with a
  Cors config is answered by Lambda itself: the function is not invoked and no signature is asked
  for (browsers never sign preflights). An allowed origin and method get
  ``Access-Control-Allow-Origin``/``-Methods``/``-Headers``/``-Max-Age``/``-Credentials``; anything
  else gets a 200 without them, which the browser reads as a refusal.
- Every other response to a request with an allowed ``Origin`` carries ``Access-Control-Allow-Origin``,
  ``-Credentials`` and ``-Expose-Headers``; the config replaces any ``Access-Control-*`` header the
  function set itself.
- Without a Cors config nothing is added and an OPTIONS request goes to the function like any other.

``*`` in AllowOrigins matches every origin (echoed as ``*``, or as the origin itself when
credentials are allowed, since browsers refuse ``*`` with credentials); other entries match the
Origin exactly (case-insensitively). ``*`` in AllowMethods or AllowHeaders allows what was asked.
"""

from __future__ import annotations

from typing import Any

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]


def _header(headers: Headers, name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def is_preflight(cors: dict[str, Any] | None, method: str, headers: Headers) -> bool:
    """Whether Lambda answers this request itself as a CORS preflight."""
    return (cors is not None and method.upper() == "OPTIONS" and _header(headers, "origin") is not None
            and _header(headers, "access-control-request-method") is not None)


def _allowed_origin(cors: dict[str, Any], origin: str) -> str | None:
    """The Access-Control-Allow-Origin value for ``origin``, or None when it is not allowed."""
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        return origin if cors.get("AllowCredentials") else "*"
    wanted = origin.lower()
    return origin if any(o.lower() == wanted for o in origins) else None


def preflight(cors: dict[str, Any], headers: Headers) -> Response:
    origin = _header(headers, "origin") or ""
    method = (_header(headers, "access-control-request-method") or "").upper()
    asked_headers = _header(headers, "access-control-request-headers") or ""
    out: Headers = [("vary", "Origin")]
    allow_origin = _allowed_origin(cors, origin)
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if allow_origin is None or not ("*" in methods or method in methods):
        return 200, out, b""
    allow_headers = cors.get("AllowHeaders") or []
    out.append(("access-control-allow-origin", allow_origin))
    out.append(("access-control-allow-methods", method if "*" in methods else ",".join(methods)))
    if "*" in allow_headers:
        if asked_headers:
            out.append(("access-control-allow-headers", asked_headers))
    elif allow_headers:
        out.append(("access-control-allow-headers", ",".join(allow_headers)))
    if cors.get("MaxAge"):
        out.append(("access-control-max-age", str(int(cors["MaxAge"]))))
    if cors.get("AllowCredentials"):
        out.append(("access-control-allow-credentials", "true"))
    return 200, out, b""


def decorate(cors: dict[str, Any] | None, request_headers: Headers, response: Response) -> Response:
    """``response`` with the URL's CORS headers in place of the function's own."""
    if cors is None:
        return response
    status, headers, body = response
    headers = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
    origin = _header(request_headers, "origin")
    allow_origin = _allowed_origin(cors, origin) if origin is not None else None
    if allow_origin is not None:
        headers.append(("access-control-allow-origin", allow_origin))
        if cors.get("AllowCredentials"):
            headers.append(("access-control-allow-credentials", "true"))
        if cors.get("ExposeHeaders"):
            headers.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
        if not any(k.lower() == "vary" for k, _ in headers):
            headers.append(("vary", "Origin"))
    return status, headers, body
