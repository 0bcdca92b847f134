"""Queue URLs and ARNs.

A queue URL is ``<endpoint the client used>/<account>/<name>``, so a client on another host (a
container, a LAN peer) gets URLs it can call back. Incoming URLs are read by their path only
(``/<account>/<name>``), whatever host they carry: AWS-style ``https://sqs.us-east-1.amazonaws.com/...``
URLs and ``localhost`` URLs name the same queue. The region is the request's (its SigV4 scope), unless
the host is an AWS-style ``sqs.<region>.…`` name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from awsemu.services.sqs.errors import InvalidAddress, QueueDoesNotExist

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION_HOST = re.compile(r"^sqs\.([a-z]{2}(?:-[a-z]+)+-\d)\.")


@dataclass(frozen=True)
class QueueRef:
    account: str
    region: str
    name: str


def queue_url(endpoint: str, account: str, name: str) -> str:
    return f"{endpoint.rstrip('/')}/{account}/{name}"


def parse_queue_url(url: str, default_region: str) -> QueueRef:
    if not url:
        raise InvalidAddress("The address  is not valid for this endpoint.")
    parts = urlsplit(url if "://" in url else f"http://host/{url.lstrip('/')}")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or not _ACCOUNT.match(segments[-2]):
        if len(segments) == 1 or not segments:
            raise QueueDoesNotExist()
        raise InvalidAddress(f"The address {url} is not valid for this endpoint.")
    host_region = _REGION_HOST.match(parts.hostname or "")
    region = host_region.group(1) if host_region else default_region
    return QueueRef(segments[-2], region, segments[-1])


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def parse_queue_arn(arn: str) -> QueueRef | None:
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        return None
    return QueueRef(parts[4], parts[3], parts[5])
