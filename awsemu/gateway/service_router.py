"""Pick the service (and its wire protocol) a request is for, as DESIGN.md "Request flow" 3 says.

Order: SigV4 credential scope, ``X-Amz-Target`` prefix, the Host (virtual-hosted S3), the path
(Lambda's dated REST prefixes), the ``Action`` form field of query protocols; S3 is the fallback.
Everything here is cheap string work; the one table that needs a model (query Action names) is
built once, lazily.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from awsemu.protocol.http import WireRequest

TARGET_PREFIXES: dict[str, tuple[str, str]] = {
    "DynamoDB_20120810": ("dynamodb", "json"),
    "DynamoDBStreams_20120810": ("dynamodbstreams", "json"),
    "AmazonSQS": ("sqs", "json"),
}

# Lambda's REST API lives under dated prefixes such as /2015-03-31/functions.
_LAMBDA_PATH = re.compile(r"^/20\d\d-\d\d-\d\d/")

# Virtual-hosted S3 (see :func:`host_bucket`). An S3 endpoint label: ``s3``, ``s3-<region>``,
# ``s3-external-1``, ``s3-accelerate``, ``s3-fips``, ``s3-website[-<region>]`` and their combinations,
# and directory buckets' ``s3express-<zone id>``.
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_S3_LABEL = re.compile(
    rf"s3(?:-(?:accelerate|fips|website|external-1|accesspoint|object-lambda|outposts|{_REGION}))*"
    r"|s3express-[a-z0-9]+(?:-[a-z0-9]+)*")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]*")


# Lambda function URLs: <32-char url id>.lambda-url.<region>.<anything> (on.aws, localhost, ...).
_FUNCTION_URL_HOST = re.compile(r"^[a-z0-9]{32}\.lambda-url\.[a-z0-9\-]+\.")


@dataclass(frozen=True)
class Route:
    service: str
    protocol: str
    host_bucket: str | None = None


@functools.lru_cache(maxsize=1)
def _query_actions() -> dict[str, str]:
    """Action name -> service for the query-protocol services (built once, on first need)."""
    from awsemu.protocol.models import service_model

    table: dict[str, str] = {}
    for service in ("sqs", "iam", "sts"):
        for op in service_model(service).operation_names:
            table.setdefault(op, service)
    return table


FUNCTION_URL_ROUTE = Route("lambda", "function-url")


def function_url_route(host: str) -> Route | None:
    """Route("lambda", "function-url") for a request on a Lambda function URL, else None.

    The gateway calls this only when the Host contains ``.lambda-url.`` (one substring test on the
    normal path); such requests are plain HTTP for the function, not AWS API calls.
    """
    return FUNCTION_URL_ROUTE if _FUNCTION_URL_HOST.match(host.lower()) else None


@functools.lru_cache(maxsize=1024)
def host_bucket(host: str) -> str | None:
    """The bucket named by a virtual-hosted S3 Host header, or None for path-style hosts.

    AWS's forms come first: ``<bucket>.<s3 label>.<anything>`` where the S3 label is ``s3``,
    ``s3-<region>``, ``s3-accelerate``, ``s3-website-<region>`` ... (so ``<bucket>.s3.<region>.…``,
    ``<bucket>.s3.dualstack.<region>.…`` and ``<bucket>.s3.localhost.localstack.cloud`` too). The
    last such label splits, since a dotted bucket name may itself hold one
    (``logs.s3.x.s3.amazonaws.com`` is bucket ``logs.s3.x``). Only a host with no S3 label is read
    as ``<bucket>.localhost``. A host whose first label is the S3 label (``s3.amazonaws.com``,
    ``s3.us-east-1.amazonaws.com``, ``s3.localhost``) names the endpoint: path-style, and so does a
    Lambda function URL host. Cached: a client sends the same few hosts.
    """
    name = host.lower()
    head, colon, port = name.rpartition(":")
    if colon and port.isdigit():
        name = head
    if ".lambda-url." in name and _FUNCTION_URL_HOST.match(name):
        return None  # a Lambda function URL (the gateway serves those before routing)
    labels = name.split(".")
    # the bucket needs at least one label before the S3 label, the endpoint one after it
    for at in range(len(labels) - 2, 0, -1):
        if labels[at].startswith("s3") and _S3_LABEL.fullmatch(labels[at]):
            bucket = ".".join(labels[:at])
            return bucket if _BUCKET.fullmatch(bucket) else None
    if len(labels) >= 2 and labels[-1] == "localhost":
        bucket = ".".join(labels[:-1])
        if _BUCKET.fullmatch(bucket) and not _S3_LABEL.fullmatch(bucket):  # s3.localhost is the endpoint
            return bucket
    return None


def _from_signing_service(signing: str, request: WireRequest) -> Route | None:
    if signing == "s3":
        return Route("s3", "rest-xml", host_bucket(request.headers.get("host", "")))
    if signing == "dynamodb":
        target = request.headers.get("x-amz-target", "")
        if target.startswith("DynamoDBStreams_20120810."):
            return Route("dynamodbstreams", "json")
        return Route("dynamodb", "json")
    if signing == "sqs":
        return Route("sqs", "json" if "x-amz-target" in request.headers else "query")
    if signing == "lambda":
        return Route("lambda", "rest-json")
    if signing == "iam":
        return Route("iam", "query")
    if signing == "sts":
        return Route("sts", "query")
    return None


def resolve(request: WireRequest, signing_service: str, form_action: str | None) -> Route | None:
    """The route for a request, or None when it names a service awsemu does not serve.

    ``form_action`` is the ``Action`` field of a form-encoded body (the gateway reads it only when
    nothing cheaper decided).
    """
    if signing_service:
        route = _from_signing_service(signing_service, request)
        if route is not None:
            return route
        return None
    target = request.headers.get("x-amz-target")
    if target:
        prefix = target.split(".", 1)[0]
        known = TARGET_PREFIXES.get(prefix)
        return Route(*known) if known else None
    bucket = host_bucket(request.headers.get("host", ""))
    if bucket:
        return Route("s3", "rest-xml", bucket)
    if _LAMBDA_PATH.match(request.raw_path):
        return Route("lambda", "rest-json")
    if form_action is not None:
        service = _query_actions().get(form_action)
        if service:
            return Route(service, "query")
    return Route("s3", "rest-xml")


def needs_form_action(request: WireRequest, signing_service: str) -> bool:
    """True when only the form body's ``Action`` can tell the service (unsigned query requests)."""
    if signing_service or "x-amz-target" in request.headers:
        return False
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        return ctype.startswith("application/x-www-form-urlencoded")
    return request.method == "GET" and "Action=" in request.query_string
