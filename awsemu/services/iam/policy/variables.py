"""Policy variables and wildcards, compiled into regular expressions.

IAM User Guide, "IAM policy elements: Variables and tags": in ``Resource`` and in condition values
of a ``"Version": "2012-10-17"`` policy, ``${key}`` is replaced by the request context's value of
``key`` (``aws:username``, ``aws:userid``, ``aws:PrincipalTag/team``, ``s3:prefix``...), and
``${key, 'default'}`` falls back to the default. ``${*}``, ``${?}`` and ``${$}`` stand for the
literal characters. A variable whose key is absent (and has no default) makes the element not match.
Substituted text is literal: a ``*`` inside a user name never acts as a wildcard.

Policies of version 2008-10-17 take ``${...}`` literally.
"""

from __future__ import annotations

import functools
import re
from typing import Mapping, Sequence

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def _lookup(expr: str, context: Mapping[str, Sequence[str]]) -> str | None:
    expr = expr.strip()
    if expr in _SPECIAL:
        return _SPECIAL[expr]
    key, comma, default = expr.partition(",")
    values = context.get(key.strip().lower())
    if values:
        return values[0]
    if comma:
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
    return None


def expand(text: str, context: Mapping[str, Sequence[str]], substitute: bool = True) -> str | None:
    """The text with variables substituted, or None when one is missing (exact-match operators)."""
    if not substitute or "${" not in text:
        return text
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        value = _lookup(m.group(1), context)
        if value is None:
            missing = True
            return ""
        return value

    out = _VARIABLE.sub(repl, text)
    return None if missing else out


@functools.lru_cache(maxsize=4096)
def wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_regex(pattern: str, context: Mapping[str, Sequence[str]], substitute: bool = True,
               ignore_case: bool = False) -> re.Pattern[str] | None:
    """``*``/``?`` wildcards plus variables (substituted literally); None when a variable is missing."""
    if not substitute or "${" not in pattern:
        return wildcard_regex(pattern, ignore_case)
    parts = []
    pos = 0
    for m in _VARIABLE.finditer(pattern):
        parts.append(wildcard_regex(pattern[pos:m.start()], ignore_case).pattern)
        value = _lookup(m.group(1), context)
        if value is None:
            return None
        parts.append(re.escape(value))
        pos = m.end()
    parts.append(wildcard_regex(pattern[pos:], ignore_case).pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, context: Mapping[str, Sequence[str]], substitute: bool = True,
               ignore_case: bool = False) -> bool:
    regex = glob_regex(pattern, context, substitute, ignore_case)
    return regex is not None and regex.fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def arn_regex(pattern: str) -> re.Pattern[str] | None:
    """One regex for a variable-free ARN pattern: wildcards in the first five components stay
    inside their component, the resource part matches freely."""
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return None
    pieces = ["".join("[^:]*" if ch == "*" else "[^:]" if ch == "?" else re.escape(ch) for ch in p) for p in parts[:5]]
    pieces.append(wildcard_regex(parts[5], False).pattern)
    return re.compile(":".join(pieces), re.DOTALL)


def arn_match(pattern: str, arn: str, context: Mapping[str, Sequence[str]], substitute: bool = True) -> bool:
    """ARN matching as ``Resource`` and ``ArnLike`` do it: the six colon-separated components are
    matched one by one (the last may itself contain colons), each with ``*``/``?`` wildcards."""
    if pattern == "*":
        return True
    if not (substitute and "${" in pattern) and arn.count(":") >= 5:
        regex = arn_regex(pattern)
        if regex is not None:
            return regex.fullmatch(arn) is not None
    p_parts = pattern.split(":", 5)
    a_parts = arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return glob_match(pattern, arn, context, substitute)
    return all(glob_match(p, a, context, substitute) for p, a in zip(p_parts, a_parts))
