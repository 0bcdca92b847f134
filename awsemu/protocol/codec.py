"""The codec interface every wire-protocol family implements, and the per-service codec cache.

A codec is compiled once per service (route tables, parse and serialize plans) and reused for
every request. Family modules:

- ``rest_xml``  (S3)                      ``rest_json`` (Lambda)
- ``json_rpc``  (DynamoDB, Streams, SQS)  ``query``     (IAM, STS, SQS legacy)

A service with several protocols (SQS: json + query) gets one codec per protocol; the gateway picks
by request shape (``X-Amz-Target`` header vs ``Action`` form field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from awsemu.protocol.http import WireRequest, WireResponse
from awsemu.services.base import ServiceError

if TYPE_CHECKING:  # botocore.model pulls in botocore.auth & co.: ~100 ms we keep off start-up
    from botocore.model import OperationModel, ServiceModel


@dataclass
class ParsedRequest:
    operation: "OperationModel"
    # Input members by their botocore member names. A streaming blob payload member
    # (S3 PutObject/UploadPart ``Body``) is an ``AsyncIterator[bytes]``, never bytes.
    params: dict[str, Any]


class Codec(Protocol):
    service_model: "ServiceModel"

    async def parse(self, request: WireRequest) -> ParsedRequest:
        """Find the operation and parse its input. Raises ServiceError for bad input/unknown ops."""
        ...

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        """Write an operation's output the way the service does (status, headers, body)."""
        ...

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> WireResponse:
        """Write an error the way the service does."""
        ...
