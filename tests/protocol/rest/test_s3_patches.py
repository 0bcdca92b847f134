"""One test per entry of ``awsemu/protocol/patches/s3.json``: each patch is needed (botocore's model
lacks the fact) and has the effect it claims."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from awsemu.protocol.http import Headers
from awsemu.protocol.model_errors import error_status, model_error
from awsemu.protocol.models import load_patch, service_model
from awsemu.protocol.registry import codec_for

PATCH = load_patch("s3")
ROOT_NAMES = {name: body["locationName"] for name, body in PATCH["shapes"].items() if "locationName" in body}
ERRORS = {name: body for name, body in PATCH["shapes"].items() if body.get("exception")}
NS = PATCH["metadata"]["xmlNamespace"]


def _operations_with_output(shape_name: str) -> list[str]:
    model = service_model("s3")
    return [n for n in model.operation_names
            if model.operation_model(n).output_shape is not None
            and model.operation_model(n).output_shape.name == shape_name]


STATUS_MEMBERS = {"GetObjectOutput", "HeadObjectOutput", "RestoreObjectOutput", "AwsemuPartialStatusCode"}


def test_every_patch_entry_is_covered_here() -> None:
    assert set(PATCH["shapes"]) == set(ROOT_NAMES) | set(ERRORS) | STATUS_MEMBERS
    assert set(PATCH["metadata"]) == {"xmlNamespace", "awsemuXmlText", "awsemuXmlInterleave"}
    assert set(PATCH["operations"]) == {"ListDirectoryBuckets"}


@pytest.mark.parametrize("shape_name", sorted(ROOT_NAMES))
def test_root_element_names(glue: Any, shape_name: str) -> None:
    unpatched = glue.client_model("s3").shape_for(shape_name)
    assert "name" not in unpatched.serialization  # botocore has no root name for it
    operations = _operations_with_output(shape_name)
    assert operations, f"{shape_name} is no operation's output"
    codec = codec_for("s3")
    for operation in operations:
        op = codec.service_model.operation_model(operation)
        body = codec.serialize(op, {}, "r").body
        assert isinstance(body, bytes)
        assert ElementTree.fromstring(body).tag == f"{{{NS}}}{ROOT_NAMES[shape_name]}"


def test_root_name_patches_do_not_rename_members() -> None:
    """A shape-level locationName would rename every member ref without its own locationName."""
    model = service_model("s3")
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.type_name != "structure":
            continue
        for member_name, member in shape.members.items():
            if member.name in ROOT_NAMES:
                assert member.serialization.get("name") in (None, member_name, ROOT_NAMES[member.name])


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_error_shapes(glue: Any, code: str) -> None:
    patched = ERRORS[code]
    client = glue.client_model("s3")
    assert code not in client.shape_names or "error" not in client.shape_for(code).metadata
    model = service_model("s3")
    assert model.shape_for(code).metadata["exception"] is True
    status = patched["error"]["httpStatusCode"]
    assert error_status(model, code) == status
    err = model_error(model, code, "message")
    assert (err.code, err.status, err.sender_fault) == (code, status, status < 500)


def test_namespace_on_every_s3_response_document(glue: Any) -> None:
    assert "xmlNamespace" not in glue.client_model("s3").metadata
    codec = codec_for("s3")
    body = codec.serialize(codec.service_model.operation_model("ListBuckets"), {}, "r").body
    assert f'<ListAllMyBucketsResult xmlns="{NS}">'.encode() in body  # type: ignore[operator]


def test_get_bucket_location_text_member() -> None:
    assert PATCH["metadata"]["awsemuXmlText"] == {"GetBucketLocationOutput": "LocationConstraint"}
    codec = codec_for("s3")
    body = codec.serialize(codec.service_model.operation_model("GetBucketLocation"),
                           {"LocationConstraint": "EU"}, "r").body
    root = ElementTree.fromstring(body)  # type: ignore[arg-type]
    assert (root.tag, root.text, list(root)) == (f"{{{NS}}}LocationConstraint", "EU", [])


def test_list_directory_buckets_priority(glue: Any) -> None:
    client = glue.client_model("s3")
    assert client.operation_model("ListDirectoryBuckets").http["requestUri"] == "/"
    assert client.operation_model("ListBuckets").http["requestUri"] == "/"
    router = codec_for("s3").router
    found = router.match("GET", "/", {}, Headers())
    assert found is not None and found.route.operation.name == "ListBuckets"


@pytest.mark.parametrize("operation", ["GetObject", "HeadObject"])
def test_partial_content_status_member(operation: str) -> None:
    codec = codec_for("s3")
    op = service_model("s3").operation_model(operation)
    partial = codec.serialize(op, {"StatusCode": 206, "ContentRange": "bytes 0-1/10", "ContentLength": 2}, "rid")
    assert partial.status == 206
    assert partial.header("Content-Range") == "bytes 0-1/10"
    assert codec.serialize(op, {"ContentLength": 10}, "rid").status == 200


def test_restore_object_status_member() -> None:
    codec = codec_for("s3")
    op = service_model("s3").operation_model("RestoreObject")
    assert codec.serialize(op, {"StatusCode": 202}, "rid").status == 202
    assert codec.serialize(op, {}, "rid").status == 200


def test_list_object_versions_interleaves_versions_and_delete_markers() -> None:
    assert PATCH["metadata"]["awsemuXmlInterleave"] == {"ListObjectVersionsOutput": ["Versions", "DeleteMarkers"]}
    codec = codec_for("s3")
    out = {
        "Name": "b", "IsTruncated": False,
        "Versions": [{"_position": 0, "Key": "a", "VersionId": "3"}, {"_position": 2, "Key": "a", "VersionId": "1"},
                     {"_position": 4, "Key": "c", "VersionId": "5"}],
        "DeleteMarkers": [{"_position": 1, "Key": "a", "VersionId": "2"}, {"_position": 3, "Key": "b", "VersionId": "4"}],
        "CommonPrefixes": [{"Prefix": "p/"}],
    }
    body = codec.serialize(codec.service_model.operation_model("ListObjectVersions"), out, "r").body
    root = ElementTree.fromstring(body)  # type: ignore[arg-type]
    entries = [(e.tag.split("}")[1], e.findtext(f"{{{NS}}}VersionId")) for e in root
               if e.tag.endswith(("}Version", "}DeleteMarker"))]
    assert entries == [("Version", "3"), ("DeleteMarker", "2"), ("Version", "1"), ("DeleteMarker", "4"),
                       ("Version", "5")]
    assert "_position" not in body.decode()  # type: ignore[union-attr]
    assert root.find(f"{{{NS}}}CommonPrefixes/{{{NS}}}Prefix").text == "p/"  # type: ignore[union-attr]

