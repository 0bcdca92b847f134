"""Versioning: Enabled/Suspended, null versions, delete markers, by-version reads, paging."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of


def test_versions_and_delete_markers(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and "null" not in (v1, v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"null-version"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(exc) == ("NoSuchKey", "The specified key does not exist.", 404)
    headers = exc.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert error_of(exc)[0:3:2] == ("MethodNotAllowed", 405)
    listed = s3.list_object_versions(Bucket=bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False), ("null", False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # deleting the marker brings the object back
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)["DeleteMarker"] is True
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert error_of(exc) == ("NoSuchVersion", "The specified version does not exist.", 404)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version")
    assert error_of(exc) == ("InvalidArgument", "Invalid version id specified", 400)


def test_suspended_versioning_replaces_null(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"n1")["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="k", Body=b"n2")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", kept]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"n2"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["VersionId"] == "null" and marker["DeleteMarker"] is True
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [kept]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]


def test_list_object_versions_paging(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    expected = []
    for key in ("a", "b", "c"):
        ids = [s3.put_object(Bucket=bucket, Key=key, Body=str(i).encode())["VersionId"] for i in range(3)]
        expected += [(key, vid) for vid in reversed(ids)]
    seen = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 4}
    while True:
        page = s3.list_object_versions(**kwargs)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kwargs["KeyMarker"] = page["NextKeyMarker"]
        kwargs["VersionIdMarker"] = page["NextVersionIdMarker"]
    assert seen == expected
    latest = [v["IsLatest"] for v in s3.list_object_versions(Bucket=bucket, Prefix="b")["Versions"]]
    assert latest == [True, False, False]
    resumed = s3.list_object_versions(Bucket=bucket, KeyMarker="b", VersionIdMarker=expected[3][1])
    assert resumed["Versions"][0]["IsLatest"] is False
    assert s3.list_object_versions(Bucket=bucket, KeyMarker="b")["Versions"][0]["Key"] == "c"


def test_delete_objects_with_versions(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="x", Body=b"1")["VersionId"]
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x"}, {"Key": "x", "VersionId": v}]})
    by_version = {d.get("VersionId"): d for d in result["Deleted"]}
    assert by_version[None]["DeleteMarker"] is True and by_version[None]["DeleteMarkerVersionId"]
    assert v in by_version
    listed = s3.list_object_versions(Bucket=bucket)
    assert "Versions" not in listed and len(listed["DeleteMarkers"]) == 1


def test_invalid_versioning_status(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "On"})
    assert error_of(exc)[0:3:2] == ("MalformedXML", 400)


def _entries(page: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(key, version id, kind, is latest) of a ListObjectVersions page, versions and markers."""
    out = [(v["Key"], v["VersionId"], "version", v["IsLatest"]) for v in page.get("Versions", [])]
    out += [(m["Key"], m["VersionId"], "marker", m["IsLatest"]) for m in page.get("DeleteMarkers", [])]
    return out


def test_list_object_versions_orders_versions_and_markers_together(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    history: dict[str, list[tuple[str, str]]] = {"a": [], "b": [], "c": []}  # oldest first

    def put(key: str) -> None:
        history[key].append((s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"], "version"))

    def delete(key: str) -> None:
        history[key].append((s3.delete_object(Bucket=bucket, Key=key)["VersionId"], "marker"))

    put("a"), delete("a"), put("a"), put("b"), delete("b"), delete("c"), put("c"), delete("c")
    expected = [(key, vid, kind, i == 0)
                for key in ("a", "b", "c") for i, (vid, kind) in enumerate(reversed(history[key]))]
    bodies: list[bytes] = []

    def keep_body(http_response: Any, **_: Any) -> None:
        bodies.append(http_response.content)

    s3.meta.events.register("after-call.s3.ListObjectVersions", keep_body)
    try:
        whole = s3.list_object_versions(Bucket=bucket)
    finally:
        s3.meta.events.unregister("after-call.s3.ListObjectVersions", keep_body)
    assert sorted(_entries(whole), key=expected.index) == expected
    assert not whole["IsTruncated"]
    # on the wire, <Version> and <DeleteMarker> elements form one run in that same order
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    wire = [(e.findtext(f"{ns}Key"), e.findtext(f"{ns}VersionId"),
             "version" if e.tag == f"{ns}Version" else "marker", e.findtext(f"{ns}IsLatest") == "true")
            for e in ElementTree.fromstring(bodies[0]) if e.tag in (f"{ns}Version", f"{ns}DeleteMarker")]
    assert wire == expected
    # one entry a page: each page is the next entry in key order, newest first, whatever its kind
    for max_keys in (1, 2, 3):
        seen: list[tuple[str, str, str, bool]] = []
        kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": max_keys}
        while True:
            page = s3.list_object_versions(**kwargs)
            got = sorted(_entries(page), key=expected.index)
            assert got == expected[len(seen):len(seen) + len(got)]
            seen += got
            if not page["IsTruncated"]:
                break
            assert len(got) == max_keys
            assert (page["NextKeyMarker"], page["NextVersionIdMarker"]) == got[-1][:2]
            kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
        assert seen == expected


def test_list_object_versions_common_prefixes_and_markers(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("d/1", "d/2", "e", "f/1"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="e")["VersionId"]
    listed = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["d/", "f/"]
    assert [(k, kind, latest) for k, _, kind, latest in _entries(listed)] == [
        ("e", "version", False), ("e", "marker", True)]
    # paging one entry at a time: a common prefix is one entry, with no version id marker
    first = s3.list_object_versions(Bucket=bucket, Delimiter="/", MaxKeys=1)
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["d/"] and first["IsTruncated"]
    assert first["NextKeyMarker"] == "d/" and "NextVersionIdMarker" not in first
    second = s3.list_object_versions(Bucket=bucket, Delimiter="/", MaxKeys=1, KeyMarker="d/")
    assert _entries(second) == [("e", marker, "marker", True)] and "CommonPrefixes" not in second
    assert (second["NextKeyMarker"], second["NextVersionIdMarker"]) == ("e", marker)
    third = s3.list_object_versions(Bucket=bucket, Delimiter="/", MaxKeys=2, KeyMarker="e",
                                    VersionIdMarker=marker)
    assert [(k, kind, latest) for k, _, kind, latest in _entries(third)] == [("e", "version", False)]
    assert [p["Prefix"] for p in third["CommonPrefixes"]] == ["f/"] and not third["IsTruncated"]
    # a version-id marker needs a key marker
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker=marker)
    assert error_of(exc) == ("InvalidArgument", "A version-id marker cannot be specified without a key marker.", 400)


MFA_REQUIRED = ("AccessDenied", "Mfa Authentication must be used for this request", 403)


def test_mfa_delete_guards_version_deletes_and_versioning_changes(s3: Any, bucket: str) -> None:
    # turning MFA delete on needs the header too
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert error_of(exc) == MFA_REQUIRED
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                             MFA="arn:aws:iam::000000000000:mfa/root-account-mfa-device 123456")
    state = s3.get_bucket_versioning(Bucket=bucket)
    assert (state["Status"], state["MFADelete"]) == ("Enabled", "Enabled")
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    # a plain delete only adds a delete marker: no MFA needed
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    for version in (v1, marker["VersionId"]):
        with pytest.raises(ClientError) as exc:
            s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
        assert error_of(exc) == MFA_REQUIRED
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="k", VersionId=v1, MFA="no-space-in-here")
    assert error_of(exc) == (
        "InvalidArgument", "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}",
        400)
    assert exc.value.response["Error"]["ArgumentName"] == "x-amz-mfa"
    with pytest.raises(ClientError) as exc:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "other"}, {"Key": "k", "VersionId": v1}]})
    assert error_of(exc) == MFA_REQUIRED
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == [v1]  # nothing deleted
    # suspending versioning is a versioning change: refused without MFA, state unchanged
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended", "MFADelete": "Enabled"})
    assert error_of(exc) == MFA_REQUIRED
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # with the header, version deletes go through
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"], MFA="SERIAL 654321")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v1}]}, MFA="SERIAL 111111")
    assert [d["VersionId"] for d in deleted["Deleted"]] == [v1]
    # turning MFA delete off needs it too; afterwards version deletes need nothing
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"},
                             MFA="SERIAL 222222")
    assert s3.get_bucket_versioning(Bucket=bucket)["MFADelete"] == "Disabled"
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)["VersionId"] == v2
