"""Element matchers compiled once: every pattern of an ``Action`` (or ``Resource``) element folded
into one regular expression, cached by the element's tuple of patterns.

Policies are immutable and a principal's policies are parsed once, so the same tuples come back on
every request; one ``fullmatch`` of an alternation replaces a Python loop over the patterns (each a
cache lookup and a match). The results are exactly those of matching the patterns one by one:
``fullmatch`` of ``(?:a)|(?:b)`` succeeds when, and only when, one alternative matches the whole
string.

A ``Resource`` element holding policy variables (``${aws:username}``) depends on the request
context when substitution is on; :func:`resources_regex` says so (returns None) and the caller
matches pattern by pattern as before.
"""

from __future__ import annotations

import functools
import re
from typing import Callable

from awsemu.services.iam.policy.variables import arn_regex, wildcard_regex


@functools.lru_cache(maxsize=4096)
def actions_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive regex for an ``Action``/``NotAction`` element (``*``/``?`` wildcards;
    action names never take variables)."""
    return re.compile("|".join(f"(?:{wildcard_regex(p, True).pattern})" for p in patterns), re.DOTALL | re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def resources_matcher(patterns: tuple[str, ...], substitute: bool) -> Callable[[str], bool] | None:
    """The cheapest test equal to :func:`resources_regex`'s ``fullmatch``, for an ARN (a string with
    at least five colons): most resource patterns are a literal ARN or a literal ending in one
    ``*`` inside the resource part (``arn:aws:s3:::bucket/*``), which string equality and
    ``startswith`` decide without the regex engine. None when :func:`resources_regex` is None."""
    regex = resources_regex(patterns, substitute)
    if regex is None:
        return None
    exact: set[str] = set()
    prefixes: list[str] = []
    for p in patterns:
        if p == "*":
            return _anything
        head = p[:-1] if p.endswith("*") else p
        if "*" in head or "?" in head:
            return _fullmatch(regex)
        # A six-part pattern (resources_regex checked it): its last character is in the resource
        # part, where the wildcard matches freely — so a trailing "*" is a prefix test.
        if p.endswith("*"):
            prefixes.append(head)
        else:
            exact.add(p)
    return _literal_or_prefix(frozenset(exact), tuple(prefixes))


def _anything(resource: str) -> bool:
    return True


def _fullmatch(regex: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda resource: regex.fullmatch(resource) is not None


def _literal_or_prefix(exact: frozenset[str], prefixes: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda resource: resource in exact or resource.startswith(prefixes)


@functools.lru_cache(maxsize=4096)
def resources_regex(patterns: tuple[str, ...], substitute: bool) -> re.Pattern[str] | None:
    """One regex for a ``Resource``/``NotResource`` element matched against an ARN (a string with
    at least five colons); None when a pattern needs the context (a variable, with substitution
    on) or is not a six-part ARN pattern — the caller then goes pattern by pattern.

    A bare ``*`` matches anything, as it does pattern by pattern."""
    pieces = []
    for p in patterns:
        if p == "*":
            pieces.append(".*")
            continue
        if substitute and "${" in p:
            return None
        regex = arn_regex(p)
        if regex is None:
            return None
        pieces.append(regex.pattern)
    return re.compile("|".join(f"(?:{p})" for p in pieces), re.DOTALL)
