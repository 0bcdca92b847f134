"""What every provider shares: the call context, ServiceError, and the provider registry.

A provider is a plain class with one method per AWS operation, named in snake_case after it
(``GetCallerIdentity`` -> ``get_caller_identity``). It receives a :class:`CallContext` and the
operation's input members as keyword arguments (botocore member names, e.g. ``Bucket``), and returns
a dict keyed by the output shape's member names. It never sees HTTP. Methods may be plain functions
(the gateway runs them in a worker thread, because storage calls block) or coroutines (awaited on
the event loop: long polls and invokes wait on asyncio events so an idle waiter holds no thread).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

if TYPE_CHECKING:
    from awsemu.config import Config
    from awsemu.storage import Storage


DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass
class CallContext:
    """Who is calling, where, and how to answer: everything a provider may know of the request."""

    service: str
    operation: str
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    access_key_id: str = ""
    principal_arn: str = ""
    user_id: str = ""
    request_id: str = ""
    # scheme://host[:port] the client used: queue URLs, Location headers, DescribeEndpoints.
    endpoint: str = "http://localhost:4566"
    source_ip: str = "127.0.0.1"
    secure_transport: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class ServiceError(Exception):
    """An AWS error as data. The protocol layer writes it the way the service does.

    ``code`` is the AWS error code (e.g. ``NoSuchBucket``), ``status`` the HTTP status,
    ``sender_fault`` picks Sender/Receiver in query errors, ``fields`` carries extra members
    the service returns beside Code/Message (S3 ``BucketName``, SQS ``...``), and ``headers``
    extra response headers (S3 ``x-amz-delete-marker`` on 404s of delete markers, ...).
    """

    code: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault
        self.fields: dict[str, Any] = fields or {}
        self.headers: dict[str, str] = headers or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, status={self.status})"


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False


class UnknownOperation(ServiceError):
    """The operation exists in no model we serve, or the provider does not implement it yet."""

    code = "UnknownOperationException"
    status = 400


_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=4096)
def snake_case(operation_name: str) -> str:
    """``ListObjectsV2`` -> ``list_objects_v2``; ``GetBucketCors`` -> ``get_bucket_cors``."""
    return _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", operation_name)).lower()


class Provider:
    """Base of every service provider: a name, lifecycle hooks, and state wiping for reset."""

    service_name: ClassVar[str] = ""

    def __init__(self, storage: "Storage", config: "Config") -> None:
        self.storage = storage
        self.config = config

    def start(self) -> None:
        """Called once the storage is open: start sweepers etc."""

    def attach(self, providers: dict[str, "Provider"]) -> None:
        """Called once every provider is started, with all of them: for services that act on their
        siblings directly (S3 events to SQS, Lambda's event source pollers) instead of over HTTP."""

    def stop(self) -> None:
        """Called at shutdown, before storage closes."""

    def reset(self) -> None:
        """Wipe all state of this service (``POST /_awsemu/reset?service=...``)."""

    def state(self) -> str:
        """What ``/_awsemu/health`` reports for this service."""
        return "running"

    def handler_for(self, operation_name: str) -> Callable[..., Any] | None:
        return getattr(self, snake_case(operation_name), None)


def runs_inline(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a cheap, never-blocking sync provider method to run on the event loop (no thread hop)."""
    func.runs_inline = True  # type: ignore[attr-defined]
    return func
