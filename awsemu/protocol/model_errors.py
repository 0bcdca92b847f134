"""Errors the protocol layer raises itself, with status codes taken from the (patched) model.

The codec answers a few errors before any provider runs: unknown routes, malformed bodies, ill-typed
parameters. Their HTTP status comes from the service's error shape (``error.httpStatusCode``), so
the facts stay in one place: botocore's model plus our patch data (``patches/<service>.json``).
"""

from __future__ import annotations

from typing import Any

from botocore.model import NoShapeFoundError, ServiceModel

from awsemu.services.base import ServiceError


def error_status(service_model: ServiceModel, code: str, default: int = 400) -> int:
    """The HTTP status the model gives an error code, or ``default`` when it has no such shape."""
    try:
        shape = service_model.shape_for(code)
    except NoShapeFoundError:
        return default
    error = shape.metadata.get("error") or {}
    return int(error.get("httpStatusCode", default))


def model_error(
    service_model: ServiceModel,
    code: str,
    message: str,
    *,
    default_status: int = 400,
    fields: dict[str, Any] | None = None,
) -> ServiceError:
    """A ServiceError for ``code`` with the status and fault side the model declares."""
    status = error_status(service_model, code, default_status)
    return ServiceError(message, code=code, status=status, sender_fault=status < 500, fields=fields)
