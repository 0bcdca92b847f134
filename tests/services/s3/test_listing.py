"""ListObjects v1/v2: prefix, delimiter, markers, continuation, max-keys, url encoding, owner."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of

KEYS = ["a.txt", "dir/x", "dir/y", "dir/sub/z", "dir2/q", "e", "é", "z/1", "z/2", "~tilde"]


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_v2_utf8_binary_order_and_fields(s3: Any, filled: str) -> None:
    listed = s3.list_objects_v2(Bucket=filled)
    keys = [o["Key"] for o in listed["Contents"]]
    assert keys == sorted(KEYS, key=lambda k: k.encode("utf-8"))
    assert listed["KeyCount"] == len(KEYS)
    assert listed["IsTruncated"] is False
    first = listed["Contents"][0]
    assert set(first) >= {"Key", "LastModified", "ETag", "Size", "StorageClass"}
    assert "Owner" not in first
    assert "Owner" in s3.list_objects_v2(Bucket=filled, FetchOwner=True)["Contents"][0]


def test_v2_delimiter_and_prefix(s3: Any, filled: str) -> None:
    top = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "e", "~tilde", "é"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "dir2/", "z/"]
    assert top["KeyCount"] == 7
    sub = s3.list_objects_v2(Bucket=filled, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["dir/x", "dir/y"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["dir/sub/"]
    assert sub["Prefix"] == "dir/"
    none = s3.list_objects_v2(Bucket=filled, Prefix="nothing")
    assert "Contents" not in none and none["KeyCount"] == 0


def test_v2_paging_with_continuation_and_start_after(s3: Any, filled: str) -> None:
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": filled, "MaxKeys": 3, "Delimiter": "/"}
    while True:
        page = s3.list_objects_v2(**kwargs)
        seen += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] <= 3
        if not page["IsTruncated"]:
            break
        kwargs["ContinuationToken"] = page["NextContinuationToken"]
    assert sorted(seen) == sorted(["a.txt", "e", "~tilde", "é", "dir/", "dir2/", "z/"])
    after = s3.list_objects_v2(Bucket=filled, StartAfter="dir/y")
    assert [o["Key"] for o in after["Contents"]][0] == "dir2/q"
    assert after["StartAfter"] == "dir/y"


def test_v1_markers(s3: Any, filled: str) -> None:
    page = s3.list_objects(Bucket=filled, MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["a.txt", "dir/sub/z"]
    assert page["IsTruncated"] is True
    assert "NextMarker" not in page  # only with a delimiter
    nxt = s3.list_objects(Bucket=filled, Marker="dir/sub/z", MaxKeys=2)
    assert [o["Key"] for o in nxt["Contents"]] == ["dir/x", "dir/y"]
    assert nxt["Marker"] == "dir/sub/z"
    assert "Owner" in nxt["Contents"][0]
    grouped = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert grouped["NextMarker"] == "dir/"
    rest = s3.list_objects(Bucket=filled, Delimiter="/", Marker=grouped["NextMarker"])
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["dir2/", "z/"]


def test_url_encoding(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sp ace+plus&amp", Body=b"x")
    # botocore asks for encoding-type=url and decodes the answer itself
    listed = s3.list_objects_v2(Bucket=bucket)
    assert listed["Contents"][0]["Key"] == "sp ace+plus&amp"
    raw = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert raw["EncodingType"] == "url"


def test_max_keys_zero_and_invalid(s3: Any, filled: str) -> None:
    zero = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert zero["KeyCount"] == 0 and "Contents" not in zero
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=filled, ContinuationToken="garbage!")
    assert error_of(exc)[0:3:2] == ("InvalidArgument", 400)


def test_listing_skips_deleted_and_missing_bucket(s3: Any, filled: str) -> None:
    s3.delete_object(Bucket=filled, Key="e")
    assert "e" not in [o["Key"] for o in s3.list_objects_v2(Bucket=filled)["Contents"]]
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="no-such-bucket-for-listing")
    assert error_of(exc) == ("NoSuchBucket", "The specified bucket does not exist", 404)
