"""Parameter checks and paging shared by the Lambda operations, with Lambda's own error wording."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    PreconditionFailedException,
    RequestTooLargeException,
    validation,
)

ACCOUNT_CONCURRENCY = 1000
MIN_UNRESERVED = 100
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 1024 * 1024
ENV_VARS_MAX = 4096
RESERVED_ENV_KEYS = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
PAGE_DEFAULT = 50
LIST_PAGE_MAX = 50  # ListFunctions and ListVersionsByFunction never return more, whatever MaxItems says

Fn = tuple[str, str, str]  # (account, region, name)


def marker(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def unmarker(marker: str | None) -> str | None:
    if not marker:
        return None
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameterValueException("Invalid marker") from None


def page_size(max_items: int | None) -> int:
    if max_items is None:
        return PAGE_DEFAULT
    if not 1 <= max_items <= 10000:
        raise validation(max_items, "maxItems", "Member must have value between 1 and 10000")
    return max_items


def check_limits(timeout: int | None, memory: int | None) -> None:
    if timeout is not None:
        if timeout < 1:
            raise validation(timeout, "timeout", "Member must have value greater than or equal to 1")
        if timeout > 900:
            raise validation(timeout, "timeout", "Member must have value less than or equal to 900")
    if memory is not None:
        if memory < 128:
            raise validation(memory, "memorySize", "Member must have value greater than or equal to 128")
        if memory > 10240:
            raise validation(memory, "memorySize", "Member must have value less than or equal to 10240")


def check_role(role: str) -> None:
    if not fx.ROLE_PATTERN.match(role or ""):
        raise validation(role, "role", fx.ROLE_CONSTRAINT)


def check_runtime(runtime: str) -> None:
    if runtime not in fx.RUNTIMES:
        raise validation(runtime, "runtime", "Member must satisfy enum value set: [" + ", ".join(fx.RUNTIMES) + "]")
    if runtime not in fx.PYTHON_RUNTIMES + fx.CUSTOM_RUNTIMES + fx.NODE_RUNTIMES:
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is not supported by awsemu yet: use a python3.x, nodejs*.x or "
            "provided.* runtime."
        )


def check_snap_start(snap_start: dict[str, Any] | None, runtime: str) -> str:
    """The ApplyOn of a SnapStart parameter; SnapStart runs python functions only in awsemu (AWS also
    has it for Java and .NET, which awsemu does not run)."""
    apply_on = str((snap_start or {}).get("ApplyOn") or "None")
    if apply_on not in ("PublishedVersions", "None"):
        raise validation(apply_on, "snapStart.applyOn", "Member must satisfy enum value set: [PublishedVersions, None]")
    if apply_on == "PublishedVersions" and runtime not in fx.PYTHON_RUNTIMES:
        raise InvalidParameterValueException(f"{runtime} is not supported for SnapStart enabled functions.")
    return apply_on


def user_environment(environment: dict[str, Any] | None) -> dict[str, str]:
    variables = dict((environment or {}).get("Variables") or {})
    reserved = sorted(k for k in variables if k in RESERVED_ENV_KEYS)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you "
            "have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured) > ENV_VARS_MAX:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you "
            f"have provided exceeded the 4KB limit. String measured: {measured}"
        )
    return {str(k): str(v) for k, v in variables.items()}


def revision_check(expected: str | None, actual: str) -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


INLINE_PARSE_BYTES = 64 * 1024


async def check_invoke_input(payload: bytes, client_context: str | None, *, event: bool = False) -> str | None:
    """Invoke's payload checks (size, JSON) as Lambda words them; returns the decoded ClientContext."""
    limit = MAX_ASYNC_PAYLOAD if event else MAX_SYNC_PAYLOAD
    if len(payload) > limit:
        operation = "InvokeAsync" if event else "InvokeFunction"
        raise RequestTooLargeException(f"Request must be smaller than {limit} bytes for the {operation} operation")
    if payload:
        try:
            if len(payload) > INLINE_PARSE_BYTES:  # a big document: parse it off the event loop
                await asyncio.to_thread(json.loads, payload)
            else:
                json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from None
    if not client_context:
        return None
    try:
        decoded = base64.b64decode(client_context, validate=True).decode()
        json.loads(decoded)
    except ValueError:
        raise InvalidRequestContentException("Client context must be a valid Base64-encoded JSON object.") from None
    return decoded
