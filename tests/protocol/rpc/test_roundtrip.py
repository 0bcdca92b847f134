"""Round trips through botocore for every operation of the RPC services, both directions.

Requests: parameters generated from the input shape, serialized by botocore's own client
serializer, handed to our codec as a WireRequest -> the same parameters. Responses: an output
generated from the output shape, serialized by our codec, parsed by botocore's client parser ->
the same dict. SQS runs twice: json, and its legacy query form (botocore serializing and parsing
with the model switched to ``query`` by ``patches/sqs_query.json``).

``make test`` runs a few examples per operation; ``make test-long`` many more.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.model import ServiceModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsemu.protocol.models import service_model, variant_model
from awsemu.protocol.registry import codec_for
from awsemu.services.base import ServiceError

CASES = [
    ("dynamodb", "json"),
    ("dynamodbstreams", "json"),
    ("sqs", "json"),
    ("sqs", "query"),
    ("iam", "query"),
    ("sts", "query"),
]


def wire_model(service: str, protocol: str) -> ServiceModel:
    """The model a client of this wire form uses (SQS query: the patched query variant)."""
    if service_model(service).protocol != protocol:
        return variant_model(service, f"{service}_{protocol}")
    return service_model(service)


OPERATIONS = [
    (service, protocol, name)
    for service, protocol in CASES
    for name in wire_model(service, protocol).operation_names
]

_SETTINGS = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
QUICK = settings(max_examples=15, **_SETTINGS)  # type: ignore[arg-type]
LONG = settings(max_examples=150 if os.environ.get("AWSEMU_TEST_LONG") else 60, **_SETTINGS)  # type: ignore[arg-type]


def check_request(shapes: Any, glue: Any, service: str, protocol: str, name: str, data: Any) -> None:
    codec = codec_for(service, protocol)
    wire_op = wire_model(service, protocol).operation_model(name)
    shape = wire_op.input_shape
    params = data.draw(shapes.for_shape(shape, protocol, "input"), label="params") if shape else {}
    parsed = glue.parse(codec, glue.request(protocol, wire_op, params))
    assert parsed.operation.name == name
    assert parsed.operation is codec.service_model.operation_model(name)
    assert parsed.params == params


def check_response(shapes: Any, glue: Any, service: str, protocol: str, name: str, data: Any) -> None:
    codec = codec_for(service, protocol)
    wire_op = wire_model(service, protocol).operation_model(name)
    shape = wire_op.output_shape
    output = data.draw(shapes.for_shape(shape, protocol, "output"), label="output") if shape else {}
    response = codec.serialize(codec.service_model.operation_model(name), output, "req-0001")
    assert response.status == 200
    assert response.header("x-amzn-RequestId") == "req-0001"
    assert glue.client_parse(protocol, response, shape) == output


_IDS = [f"{s}-{p}-{n}" for s, p, n in OPERATIONS]


@pytest.mark.parametrize(("service", "protocol", "name"), OPERATIONS, ids=_IDS)
@QUICK
@given(data=st.data())
def test_request_round_trip(shapes: Any, glue: Any, service: str, protocol: str, name: str, data: Any) -> None:
    check_request(shapes, glue, service, protocol, name, data)


@pytest.mark.parametrize(("service", "protocol", "name"), OPERATIONS, ids=_IDS)
@QUICK
@given(data=st.data())
def test_response_round_trip(shapes: Any, glue: Any, service: str, protocol: str, name: str, data: Any) -> None:
    check_response(shapes, glue, service, protocol, name, data)


@pytest.mark.long
@pytest.mark.parametrize(("service", "protocol", "name"), OPERATIONS, ids=_IDS)
@LONG
@given(data=st.data())
def test_request_round_trip_long(shapes: Any, glue: Any, service: str, protocol: str, name: str, data: Any) -> None:
    check_request(shapes, glue, service, protocol, name, data)


@pytest.mark.long
@pytest.mark.parametrize(("service", "protocol", "name"), OPERATIONS, ids=_IDS)
@LONG
@given(data=st.data())
def test_response_round_trip_long(shapes: Any, glue: Any, service: str, protocol: str, name: str, data: Any) -> None:
    check_response(shapes, glue, service, protocol, name, data)


def test_every_operation_is_covered() -> None:
    counts = {f"{s}/{p}": len(wire_model(s, p).operation_names) for s, p in CASES}
    assert counts == {
        "dynamodb/json": 62,
        "dynamodbstreams/json": 4,
        "sqs/json": 23,
        "sqs/query": 23,
        "iam/query": 181,
        "sts/query": 12,
    }


ERROR_SHAPES = [
    (service, protocol, name)
    for service, protocol in CASES
    for name in wire_model(service, protocol).shape_names
    if wire_model(service, protocol).shape_for(name).metadata.get("exception")
]


@pytest.mark.parametrize(("service", "protocol", "shape_name"), ERROR_SHAPES, ids=[f"{s}-{p}-{n}" for s, p, n in ERROR_SHAPES])
def test_every_modeled_error_reaches_the_client(glue: Any, service: str, protocol: str, shape_name: str) -> None:
    """Each error shape, raised by its shape name, is read by botocore as the code AWS sends."""
    codec = codec_for(service, protocol)
    meta = wire_model(service, protocol).shape_for(shape_name).metadata.get("error", {})
    response = codec.serialize_error(None, ServiceError("went wrong", code=shape_name), "req-e")
    parsed = glue.client_parse(protocol, response, None)
    query_code = meta.get("code", shape_name)
    uses_query_code = protocol == "query" or "awsQueryCompatible" in codec.service_model.metadata
    assert parsed["Error"]["Code"] == (query_code if uses_query_code else shape_name)
    assert parsed["Error"]["Message"] == "went wrong"
    assert response.status == meta.get("httpStatusCode", 400)
    assert response.header("x-amzn-RequestId") == "req-e"
