"""Multipart uploads: parts streamed, completion rules and errors, checksums, copy, listings."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from typing import Any

import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError
from s3_helpers import error_of

MiB = 1024 * 1024


def md5_etag(parts: list[bytes]) -> str:
    return '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f'-{len(parts)}"'


def test_upload_complete_get(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 3), os.urandom(1234)]
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/x-mp", Metadata={"m": "1"})
    upload_id = created["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    assert etags[0] == '"' + hashlib.md5(parts[0]).hexdigest() + '"'
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (i + 1, len(p), etags[i]) for i, p in enumerate(parts)
    ]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp", upload_id)]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    assert done["ETag"] == md5_etag(parts)
    assert done["Bucket"] == bucket and done["Key"] == "mp"
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "text/x-mp" and got["Metadata"] == {"m": "1"}
    # x-amz-mp-parts-count answers partNumber reads only (API reference, GetObject/HeadObject)
    assert "PartsCount" not in got
    part2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert part2["Body"].read() == parts[1]
    assert part2["PartsCount"] == 3
    assert part2["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB + 2}/{10 * MiB + 3 + 1234}"
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert error_of(exc) == (
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted "
        "or completed.",
        404,
    )


def test_completion_errors(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="e")["UploadId"]
    small = [s3.upload_part(Bucket=bucket, Key="e", UploadId=upload_id, PartNumber=n, Body=b"x" * 10)["ETag"]
             for n in (1, 2)]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 2, "ETag": small[1]}, {"PartNumber": 1, "ETag": small[0]}]})
    assert error_of(exc) == (
        "InvalidPartOrder",
        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        400,
    )
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 3, "ETag": small[1]}]})
    assert error_of(exc) == (
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the "
        "specified entity tag may not match the part's entity tag.",
        400,
    )
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 2, "ETag": small[1]}]})
    assert error_of(exc) == ("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", 400)
    # a single small part is fine (the last part may be small)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": small[0]}]})
    assert done["ETag"] == md5_etag([b"x" * 10])
    assert s3.get_object(Bucket=bucket, Key="e")["Body"].read() == b"x" * 10
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="e", UploadId="nope", PartNumber=1, Body=b"x")
    assert error_of(exc)[0] == "NoSuchUpload"


def test_abort_and_part_number_rules(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="a", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error_of(exc) == ("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", 400)
    s3.upload_part(Bucket=bucket, Key="a", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=upload_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=upload_id)
    assert error_of(exc)[0] == "NoSuchUpload"


def test_composite_checksum(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), b"tail"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="cs", ChecksumAlgorithm="SHA256")["UploadId"]
    answers = [s3.upload_part(Bucket=bucket, Key="cs", UploadId=upload_id, PartNumber=i + 1, Body=p,
                              ChecksumAlgorithm="SHA256") for i, p in enumerate(parts)]
    for part, answer in zip(parts, answers):
        assert answer["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(part).digest()).decode()
    done = s3.complete_multipart_upload(Bucket=bucket, Key="cs", UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": i + 1, "ETag": a["ETag"], "ChecksumSHA256": a["ChecksumSHA256"]} for i, a in enumerate(answers)]})
    raw = b"".join(hashlib.sha256(p).digest() for p in parts)
    expected = base64.b64encode(hashlib.sha256(raw).digest()).decode() + "-2"
    assert done["ChecksumSHA256"] == expected
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="cs", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected and head["ChecksumType"] == "COMPOSITE"
    attrs = s3.get_object_attributes(Bucket=bucket, Key="cs", ObjectAttributes=["ObjectParts", "Checksum"])
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2
    assert [p["Size"] for p in attrs["ObjectParts"]["Parts"]] == [5 * MiB, 4]


def test_part_number_reads_answer_the_part_checksum(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), b"tail of the object"]
    sums = [base64.b64encode(zlib.crc32(p).to_bytes(4, "big")).decode() for p in parts]

    def upload(key: str, checksum_type: str, body_parts: list[bytes]) -> str:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32",
                                               ChecksumType=checksum_type)["UploadId"]
        answers = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=i + 1, Body=p,
                                  ChecksumAlgorithm="CRC32") for i, p in enumerate(body_parts)]
        extra = (lambda a: {"ChecksumCRC32": a["ChecksumCRC32"]}) if checksum_type == "COMPOSITE" else (lambda a: {})
        done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [
            {"PartNumber": i + 1, "ETag": a["ETag"], **extra(a)} for i, a in enumerate(answers)]})
        return str(done["ChecksumCRC32"])

    whole = upload("composite", "COMPOSITE", parts)
    assert whole.endswith("-2")
    for number, (part, crc) in enumerate(zip(parts, sums), start=1):
        for read in (s3.get_object, s3.head_object):
            got = read(Bucket=bucket, Key="composite", PartNumber=number, ChecksumMode="ENABLED")
            assert got["ChecksumCRC32"] == crc and got["ChecksumType"] == "COMPOSITE"
            assert got["PartsCount"] == 2 and got["ContentLength"] == len(part)
            assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        # without checksum mode, no checksum at all
        assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="composite", PartNumber=number)
    # the whole object still answers the composite checksum
    assert s3.head_object(Bucket=bucket, Key="composite", ChecksumMode="ENABLED")["ChecksumCRC32"] == whole
    # FULL_OBJECT: a part of several is not the object, so no checksum; a single part is the object
    upload("full", "FULL_OBJECT", parts)
    got = s3.head_object(Bucket=bucket, Key="full", PartNumber=1, ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in got and "ChecksumType" not in got and got["PartsCount"] == 2
    single = upload("single", "FULL_OBJECT", parts[1:])
    got = s3.head_object(Bucket=bucket, Key="single", PartNumber=1, ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == single == sums[1] and got["ChecksumType"] == "FULL_OBJECT"


def test_full_object_crc_checksums(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(777)]
    whole = b"".join(parts)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="fo", ChecksumAlgorithm="CRC32",
                                           ChecksumType="FULL_OBJECT")["UploadId"]
    answers = [s3.upload_part(Bucket=bucket, Key="fo", UploadId=upload_id, PartNumber=i + 1, Body=p,
                              ChecksumAlgorithm="CRC32") for i, p in enumerate(parts)]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="fo", UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": i + 1, "ETag": a["ETag"]} for i, a in enumerate(answers)]})
    assert done["ChecksumCRC32"] == base64.b64encode(zlib.crc32(whole).to_bytes(4, "big")).decode()
    assert done["ChecksumType"] == "FULL_OBJECT"
    # without any checksum asked, S3 keeps a full-object CRC64NVME
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    answers = [s3.upload_part(Bucket=bucket, Key="plain", UploadId=upload_id, PartNumber=i + 1, Body=p)
               for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="plain", UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": i + 1, "ETag": a["ETag"]} for i, a in enumerate(answers)]})
    head = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == base64.b64encode(crt.crc64nvme(whole).to_bytes(8, "big")).decode()
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="x", ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT")
    assert error_of(exc) == ("InvalidRequest",
                             "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm.", 400)


def test_upload_part_copy_with_range(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"})
    second = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload_id, PartNumber=2,
                                 CopySource=f"{bucket}/source", CopySourceRange="bytes=10-19")
    assert second["CopyPartResult"]["ETag"] == '"' + hashlib.md5(source[10:20]).hexdigest() + '"'
    s3.complete_multipart_upload(Bucket=bucket, Key="copied", UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == source + source[10:20]
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId="x", PartNumber=1,
                            CopySource=f"{bucket}/source", CopySourceRange="bytes=10-19")
    assert error_of(exc)[0] == "NoSuchUpload"


def test_list_multipart_uploads_paging(s3: Any, bucket: str) -> None:
    ids = [s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in ("a/1", "a/2", "b", "b")]
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert [u["Key"] for u in page["Uploads"]] == ["a/1", "a/2"]
    assert page["IsTruncated"] is True
    rest = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])
    assert [u["UploadId"] for u in rest["Uploads"]] == ids[2:]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/"]
    assert [u["Key"] for u in grouped["Uploads"]] == ["b", "b"]
