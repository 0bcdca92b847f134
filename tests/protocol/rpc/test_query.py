"""QueryCodec (IAM, STS) beyond the round trips: exact XML, actions, validation, errors."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from awsemu.protocol.models import service_model
from awsemu.protocol.query import QueryCodec, build_trie, escape_xml
from awsemu.protocol.registry import codec_for
from awsemu.services.base import ServiceError

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
FORM = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]


def form_request(glue: Any, fields: list[tuple[str, str]]) -> Any:
    return glue.wire_request("POST", "/", "", FORM, urlencode(fields).encode())


def parse_error(glue: Any, codec: Any, request: Any) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        glue.parse(codec, request)
    return caught.value


def test_registry_gives_query_codecs() -> None:
    for service in ("iam", "sts"):
        codec = codec_for(service)
        assert isinstance(codec, QueryCodec)
        assert codec.service_model is service_model(service)


def test_build_trie() -> None:
    trie = build_trie([("A.member.1.K", "x"), ("A.member.2.K", "y"), ("B", ""), ("C.1", "z"), ("C", "leaf")])
    assert trie == {"A": {"member": {"1": {"K": "x"}, "2": {"K": "y"}}}, "B": "", "C": {"1": "z"}}


def test_escape_xml() -> None:
    assert escape_xml("a&b<c>d\re\"'") == "a&amp;b&lt;c&gt;d&#13;e\"'"


def test_parse_lists_of_structures_in_index_order(glue: Any) -> None:
    fields = [
        ("Action", "CreateUser"),
        ("Version", "2010-05-08"),
        ("UserName", "alice"),
        ("Tags.member.10.Key", "k10"),
        ("Tags.member.10.Value", "v10"),
        ("Tags.member.2.Key", "k2"),
        ("Tags.member.2.Value", "v2"),
    ]
    parsed = glue.parse(codec_for("iam"), form_request(glue, fields))
    assert parsed.operation.name == "CreateUser"
    assert parsed.params == {"UserName": "alice", "Tags": [{"Key": "k2", "Value": "v2"}, {"Key": "k10", "Value": "v10"}]}


def test_get_requests_read_the_query_string(glue: Any) -> None:
    query = urlencode([("Action", "ListUsers"), ("Version", "2010-05-08"), ("MaxItems", "5")])
    parsed = glue.parse(codec_for("iam"), glue.wire_request("GET", "/", query, [], b""))
    assert (parsed.operation.name, parsed.params) == ("ListUsers", {"MaxItems": 5})


def test_unknown_action(glue: Any) -> None:
    codec = codec_for("sts")
    error = parse_error(glue, codec, form_request(glue, [("Action", "StealCredentials"), ("Version", "2011-06-15")]))
    assert (error.code, error.status) == ("InvalidAction", 400)
    assert error.message == "The action StealCredentials is not valid for this web service."
    response = codec.serialize_error(None, error, "req-9")
    assert response.status == 400
    assert response.body == (
        f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>InvalidAction</Code>'
        "<Message>The action StealCredentials is not valid for this web service.</Message></Error>"
        "<RequestId>req-9</RequestId></ErrorResponse>"
    ).encode()
    assert response.header("Content-Type") == "text/xml"
    assert response.header("x-amzn-RequestId") == "req-9"


def test_missing_action(glue: Any) -> None:
    error = parse_error(glue, codec_for("iam"), form_request(glue, [("Version", "2010-05-08")]))
    assert (error.code, error.status) == ("MissingAction", 400)


def test_missing_required_members_iam_and_sts(glue: Any) -> None:
    error = parse_error(glue, codec_for("iam"), form_request(glue, [("Action", "GetRole")]))
    assert (error.code, error.status) == ("ValidationError", 400)
    assert error.message == (
        "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: "
        "Member must not be null"
    )
    error = parse_error(glue, codec_for("sts"), form_request(glue, [("Action", "AssumeRole"), ("DurationSeconds", "60")]))
    assert error.message == (
        "3 validation errors detected: "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null; "
        "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null; "
        "Value '60' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_malformed_number_is_a_validation_error(glue: Any) -> None:
    error = parse_error(glue, codec_for("iam"), form_request(glue, [("Action", "ListUsers"), ("MaxItems", "ten")]))
    assert error.code == "ValidationError"
    assert "maxItems" in error.message


def test_sts_get_caller_identity_xml() -> None:
    codec = codec_for("sts")
    op = codec.service_model.operation_model("GetCallerIdentity")
    output = {"UserId": "AKIA<1>", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}
    response = codec.serialize(op, output, "req-1")
    assert response.status == 200
    assert response.header("Content-Type") == "text/xml"
    assert response.body == (
        f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
        "<UserId>AKIA&lt;1&gt;</UserId><Account>000000000000</Account>"
        "<Arn>arn:aws:iam::000000000000:root</Arn>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    ).encode()


def test_iam_lists_timestamps_and_booleans_xml(glue: Any) -> None:
    codec = codec_for("iam")
    op = codec.service_model.operation_model("ListUsers")
    created = datetime(2026, 11, 27, 11, 13, 40, 123000, tzinfo=timezone.utc)
    user = {"Path": "/", "UserName": "a", "UserId": "AID", "Arn": "arn:u", "CreateDate": created}
    response = codec.serialize(op, {"Users": [user], "IsTruncated": False}, "r")
    assert response.body == (
        f'<ListUsersResponse xmlns="{IAM_NS}"><ListUsersResult><Users><member>'
        "<Path>/</Path><UserName>a</UserName><UserId>AID</UserId><Arn>arn:u</Arn>"
        "<CreateDate>2026-11-27T11:13:40.123Z</CreateDate></member></Users>"
        "<IsTruncated>false</IsTruncated></ListUsersResult>"
        "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>"
    ).encode()
    assert glue.client_parse("query", response, op.output_shape)["Users"][0]["CreateDate"] == created


def test_operation_without_output_has_no_result_element() -> None:
    codec = codec_for("iam")
    response = codec.serialize(codec.service_model.operation_model("DeleteUser"), {}, "r")
    assert response.body == (
        f'<DeleteUserResponse xmlns="{IAM_NS}">'
        "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
    ).encode()


def test_modeled_error_code_and_status(glue: Any) -> None:
    codec = codec_for("iam")
    for raised in ("NoSuchEntityException", "NoSuchEntity"):
        response = codec.serialize_error(None, ServiceError("The user with name x cannot be found.", code=raised), "r")
        assert response.status == 404
        assert b"<Code>NoSuchEntity</Code>" in response.body
        parsed = glue.client_parse("query", response, None)
        assert parsed["Error"] == {"Type": "Sender", "Code": "NoSuchEntity", "Message": "The user with name x cannot be found."}
    failure = codec.serialize_error(None, ServiceError("boom", code="ServiceFailure"), "r")
    assert failure.status == 500
    assert b"<Type>Receiver</Type>" in failure.body


def test_error_fields_and_headers() -> None:
    codec = codec_for("sts")
    error = ServiceError("m", code="ValidationError", fields={"Detail": "a<b"}, headers={"Retry-After": "1"})
    response = codec.serialize_error(None, error, "r")
    assert b"<Message>m</Message><Detail>a&lt;b</Detail></Error>" in response.body
    assert response.header("Retry-After") == "1"
