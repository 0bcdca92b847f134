"""What the RPC codecs (``json_rpc``, ``query``) share: error tables and input validators.

Both are compiled once per service or per operation from the botocore model and then only
*run* per request; nothing here walks shapes on a request path.

:class:`ErrorTable`
    Every exception shape of a model, indexed both by shape name (what JSON ``__type`` carries,
    ``QueueDoesNotExist``) and by its ``error.code`` (what query ``<Code>`` and the
    ``x-amzn-query-error`` header carry, ``AWS.SimpleQueueService.NonExistentQueue``), so a
    provider may raise either and each wire gets its own spelling. The model's
    ``httpStatusCode``/``senderFault`` apply unless the raised error sets its own.

:func:`compile_input_validator`
    Checks the top-level members of an operation input: required members, the JSON type of each
    member (JSON only; query values are typed by the parser), and the model's length, range and
    enum constraints. Messages are worded the way DynamoDB, IAM and STS word them::

        1 validation error detected: Value null at 'tableName' failed to satisfy constraint:
        Member must not be null

    (member path in lower camel case, ``'; '`` between messages). Patterns are not checked: the
    models write them in Java regex syntax, and a wrong rejection is worse than a missed one.
    Nested members are not validated here; DynamoDB ``AttributeValue`` trees get their own
    cheap check in ``json_rpc`` while their blobs are decoded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from botocore.model import ServiceModel, Shape, StructureShape

from awsemu.services.base import ServiceError


@dataclass(frozen=True)
class ErrorInfo:
    shape_name: str
    code: str  # error.code of the model (query code), or the shape name when it has none
    status: int | None
    sender_fault: bool | None


@dataclass(frozen=True)
class ResolvedError:
    type_name: str  # JSON ``__type`` name (after '#')
    code: str  # query ``<Code>`` / ``x-amzn-query-error`` code
    status: int
    sender_fault: bool


def _explicit(error: ServiceError, attr: str) -> bool:
    """Whether an error instance or its own class chose ``attr`` (rather than ServiceError's default)."""
    if attr in vars(error):
        return True
    for klass in type(error).__mro__:
        if klass is ServiceError:
            return False
        if attr in vars(klass):
            return True
    return False


class ErrorTable:
    """Exception shapes of one model, looked up by shape name or by error code."""

    def __init__(self, model: ServiceModel) -> None:
        self._by_name: dict[str, ErrorInfo] = {}
        for name in model.shape_names:
            shape = model.shape_for(name)
            if not shape.metadata.get("exception"):
                continue
            err = shape.metadata.get("error") or {}
            info = ErrorInfo(
                shape_name=name,
                code=err.get("code", name),
                status=err.get("httpStatusCode"),
                sender_fault=err.get("senderFault"),
            )
            self._by_name.setdefault(name, info)
            self._by_name.setdefault(info.code, info)

    def info(self, code: str) -> ErrorInfo | None:
        return self._by_name.get(code)

    def resolve(self, error: ServiceError) -> ResolvedError:
        info = self._by_name.get(error.code)
        status = error.status
        sender_fault = error.sender_fault
        if info is not None:
            if info.status is not None and not _explicit(error, "status"):
                status = info.status
            if not _explicit(error, "sender_fault"):
                if info.sender_fault is not None:
                    sender_fault = info.sender_fault
                elif info.status is not None:
                    sender_fault = info.status < 500
            return ResolvedError(info.shape_name, info.code, status, sender_fault)
        return ResolvedError(error.code, error.code, status, sender_fault)


def lower_camel(name: str) -> str:
    """``TableName`` -> ``tableName``: how Coral-based services name members in messages."""
    return name[:1].lower() + name[1:]


def validation_message(problems: list[str]) -> str:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(problems)


class TypeMismatch(Exception):
    """A JSON value of the wrong kind for its member (answered as a SerializationException)."""


def _shown(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# The Python types json.loads yields for each botocore type (bool is excluded from numbers below).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "character": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "Start of structure or map found where not expected"
    if isinstance(value, list):
        return "Start of list found where not expected"
    if isinstance(value, bool):
        return ("TRUE_VALUE" if value else "FALSE_VALUE") + " cannot be converted"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE cannot be converted"
    return "STRING_VALUE cannot be converted"


MemberCheck = Callable[[Any], "str | None"]


def _constraint_check(name: str, shape: Shape) -> MemberCheck | None:
    """One member's constraint check, or None when the model states no constraint for it."""
    meta = shape.metadata
    kind = shape.type_name
    path = lower_camel(name)
    lo, hi = meta.get("min"), meta.get("max")
    enum = shape.enum if kind == "string" else None
    if kind in ("string", "list", "map") and (lo is not None or hi is not None or enum):

        def check_sized(value: Any) -> str | None:
            size = len(value)
            if lo is not None and size < lo:
                return (
                    f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have length greater than or equal to {lo}"
                )
            if hi is not None and size > hi:
                return (
                    f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {hi}"
                )
            if enum and value not in enum:
                return (
                    f"Value '{value}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(enum)}]"
                )
            return None

        return check_sized
    if kind in ("integer", "long", "float", "double") and (lo is not None or hi is not None):

        def check_range(value: Any) -> str | None:
            if lo is not None and value < lo:
                return (
                    f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value greater than or equal to {lo}"
                )
            if hi is not None and value > hi:
                return (
                    f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value less than or equal to {hi}"
                )
            return None

        return check_range
    return None


InputValidator = Callable[[dict[str, Any]], list[str]]


def compile_input_validator(
    shape: StructureShape | None, *, check_json_types: bool, check_constraints: bool = True
) -> InputValidator:
    """A function ``params -> problems`` for an operation's top-level input members.

    Raises :class:`TypeMismatch` (JSON only) on the first member of the wrong JSON kind.
    Missing required members are reported as ``Value null at '<member>'`` problems; the codec
    words them otherwise when its service does (SQS: ``MissingParameter``).
    """
    if shape is None:
        return lambda params: []
    required = tuple(shape.required_members)
    required_paths = {name: lower_camel(name) for name in required}
    typed: list[tuple[str, tuple[type, ...], bool]] = []
    checks: list[tuple[str, MemberCheck]] = []
    for name, member in shape.members.items():
        if check_json_types:
            wanted = _JSON_TYPES.get(member.type_name, (object,))
            typed.append((name, wanted, member.type_name not in ("boolean",)))
        if check_constraints:
            check = _constraint_check(name, member)
            if check is not None:
                checks.append((name, check))

    def validate(params: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        for name in required:
            if params.get(name) is None:
                problems.append(
                    f"Value null at '{required_paths[name]}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, wanted, bool_is_wrong in typed:
            value = params.get(name)
            if value is None:
                continue
            if not isinstance(value, wanted) or (bool_is_wrong and isinstance(value, bool)):
                raise TypeMismatch(_json_kind(value))
        for name, check in checks:
            value = params.get(name)
            if value is not None:
                problem = check(value)
                if problem is not None:
                    problems.append(problem)
        return problems

    return validate


PlanT = TypeVar("PlanT")


class LazyPlans(Generic[PlanT]):
    """Per-operation plans, compiled on first use and kept. Lookups take no lock; a compile does,
    because providers may serialize from worker threads while the loop parses."""

    def __init__(self, build: Callable[[str], PlanT]) -> None:
        self._build = build
        self._plans: dict[str, PlanT] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> PlanT:
        plan = self._plans.get(name)
        if plan is not None:
            return plan
        with self._lock:
            plan = self._plans.get(name)
            if plan is None:
                plan = self._plans[name] = self._build(name)
            return plan
