"""Round trips of EVERY operation of S3 (rest-xml) and Lambda (rest-json) against botocore itself.

Input: params drawn from the input shape -> botocore's client serializer -> our parser -> the same
params. Output: a dict drawn from the output shape -> our serializer -> botocore's client parser ->
the same dict. Cases the wire cannot tell apart are named below, with the reason.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsemu.protocol.models import service_model
from awsemu.protocol.registry import codec_for
from awsemu.protocol.rest_plans import BLOB, STREAM, STRING

# Deprecated operations that are byte-for-byte the same request as their successor: S3 serves one
# endpoint for both, so they parse as the successor (and that successor's input shape).
WIRE_ALIASES = {
    "s3": {
        "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
        "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
        "GetBucketNotification": "GetBucketNotificationConfiguration",
        "PutBucketNotification": "PutBucketNotificationConfiguration",
    },
    "lambda": {},
}
# Output payloads that are event streams: the provider writes the framed bytes; botocore's parser
# needs a live stream to read them, so these outputs are checked for pass-through only.
EVENT_STREAM_OUTPUTS = {"s3": {"SelectObjectContent"}, "lambda": {"InvokeWithResponseStream"}}
# Outputs botocore cannot read back unambiguously: the deprecated NotificationConfigurationDeprecated
# maps both ``Event`` (string) and ``Events`` (flattened list) to ``<Event>`` elements.
AMBIGUOUS_OUTPUTS = {"s3": {"GetBucketNotification"}, "lambda": set()}

PROTOCOL = {"s3": "rest-xml", "lambda": "rest-json"}
CASES = [(svc, op) for svc in ("s3", "lambda") for op in service_model(svc).operation_names]

FAST: dict[str, Any] = {
    "max_examples": 12,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "derandomize": True,
}
LONG: dict[str, Any] = {
    "max_examples": int(os.environ.get("AWSEMU_TEST_LONG_EXAMPLES", "150")),
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
}


def _input_check(service: str, op_name: str, strategies: Any, glue: Any, config: dict[str, Any]) -> None:
    codec = codec_for(service)
    client_op = glue.client_model(service).operation_model(op_name)
    strat = strategies(PROTOCOL[service], "input").for_operation(client_op)
    plan = codec.input_plan(op_name)

    @settings(**config)
    @given(params=strat, stream=st.booleans())
    def check(params: dict[str, Any], stream: bool) -> None:
        request = glue.botocore_request(service, op_name, params, stream=stream)
        parsed = glue.run(codec.parse(request))
        expected_op = WIRE_ALIASES[service].get(op_name, op_name)
        if op_name == "ListDirectoryBuckets" and "max-directory-buckets" not in request.query_string:
            # the same bytes as ListBuckets; AWS tells them apart by endpoint (s3express)
            expected_op = "ListBuckets"
        assert parsed.operation.name == expected_op
        got = dict(parsed.params)
        member = plan.payload_member
        if expected_op != op_name:
            # parsed with the successor's input shape: the located members it shares must all be
            # there; the payload (if any) is read as the successor's payload shape.
            successor = codec.input_plan(expected_op)
            known = successor.operation.input_shape.members
            got.pop(successor.payload_member, None)
            kept = {k: v for k, v in params.items() if k != member and k in known}
            assert glue.normalize(got) == glue.normalize(kept)
            return
        if plan.payload_kind == STREAM and member is not None:
            value = got.pop(member)
            if stream:
                assert not isinstance(value, (bytes, bytearray))
                value = glue.run(glue.collect(value))
            assert value == (params.get(member) or b"")
            params = {k: v for k, v in params.items() if k != member}
        elif (
            plan.payload_kind in (BLOB, STRING)
            and member is not None
            and not params.get(member)
            and member not in plan.required  # an empty body is "no payload" unless required
        ):
            params = {k: v for k, v in params.items() if k != member}
        assert glue.normalize(got) == glue.normalize(params)

    check()


def _output_check(service: str, op_name: str, strategies: Any, glue: Any, config: dict[str, Any]) -> None:
    codec = codec_for(service)
    op = codec.service_model.operation_model(op_name)
    client_op = glue.client_model(service).operation_model(op_name)
    strat = strategies(PROTOCOL[service], "output").for_operation(client_op)
    plan = codec.output_plan(op_name)

    @settings(**config)
    @given(output=strat)
    def check(output: dict[str, Any]) -> None:
        response = codec.serialize(op, output, "req-1")
        expected = dict(output)
        if op_name in EVENT_STREAM_OUTPUTS[service]:
            assert response.body == b""  # nothing generated for the stream member
            return
        if op_name in AMBIGUOUS_OUTPUTS[service]:
            assert response.body.startswith(b"<?xml")
            return
        member = plan.payload_member
        parsed = glue.botocore_parse(service, op_name, response, stream=plan.payload_kind == BLOB)
        parsed.pop("ResponseMetadata")
        client_members = client_op.output_shape.members if client_op.output_shape is not None else {}
        if plan.status_member in client_members and plan.status_member not in expected:
            expected[plan.status_member] = response.status  # botocore always reports the status
        if plan.payload_kind in (BLOB, STRING) and member is not None:
            value = expected.pop(member, None)
            got = parsed.pop(member, None)
            body = value.encode() if isinstance(value, str) else (value or b"")
            assert response.body == body
            if plan.payload_kind == BLOB:
                assert got.read() == body
            else:
                assert (got or "") == body.decode()
        if op_name == "GetBucketLocation":
            # botocore reads this bare-text document in a handler, not in its parser
            from xml.etree import ElementTree

            parsed["LocationConstraint"] = ElementTree.fromstring(response.body).text
        assert glue.normalize(parsed) == glue.normalize(expected)

    check()


@pytest.mark.parametrize("service,op_name", CASES, ids=[f"{s}-{o}" for s, o in CASES])
def test_input_round_trip(service: str, op_name: str, strategies: Any, glue: Any) -> None:
    _input_check(service, op_name, strategies, glue, FAST)


@pytest.mark.parametrize("service,op_name", CASES, ids=[f"{s}-{o}" for s, o in CASES])
def test_output_round_trip(service: str, op_name: str, strategies: Any, glue: Any) -> None:
    _output_check(service, op_name, strategies, glue, FAST)


@pytest.mark.long
@pytest.mark.parametrize("service,op_name", CASES, ids=[f"{s}-{o}" for s, o in CASES])
def test_input_round_trip_long(service: str, op_name: str, strategies: Any, glue: Any) -> None:
    _input_check(service, op_name, strategies, glue, LONG)


@pytest.mark.long
@pytest.mark.parametrize("service,op_name", CASES, ids=[f"{s}-{o}" for s, o in CASES])
def test_output_round_trip_long(service: str, op_name: str, strategies: Any, glue: Any) -> None:
    _output_check(service, op_name, strategies, glue, LONG)


def test_every_operation_is_covered() -> None:
    covered = {svc: sum(1 for s, _ in CASES if s == svc) for svc in ("s3", "lambda")}
    assert covered == {svc: len(service_model(svc).operation_names) for svc in ("s3", "lambda")}
