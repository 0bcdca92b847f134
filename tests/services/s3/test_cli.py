"""The aws CLI with default settings: s3 cp/sync/ls/rm (multipart included) and s3api calls."""

from __future__ import annotations

import json
import os
from pathlib import Path

from s3_helpers import aws_cli


def test_cli_s3_commands(aws_endpoint_url: str, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # multipart with CLI defaults (8 MiB)
    # S3's LastModified has whole-second precision and `sync` re-uploads a file whose mtime is newer, so
    # a file written in the same second as its upload would be copied again (against AWS as well):
    # date the sources a minute back.
    for path in (src / "a.txt", src / "sub" / "b.bin"):
        os.utime(path, (path.stat().st_atime - 60, path.stat().st_mtime - 60))
    run = lambda *args: aws_cli(aws_endpoint_url, *args)  # noqa: E731
    result = run("s3", "cp", str(src / "a.txt"), f"s3://{bucket}/single/a.txt")
    assert result.returncode == 0, result.stderr
    result = run("s3", "sync", str(src), f"s3://{bucket}/synced")
    assert result.returncode == 0, result.stderr
    listing = run("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert listing.returncode == 0, listing.stderr
    names = sorted(line.split()[-1] for line in listing.stdout.splitlines())
    assert names == ["single/a.txt", "synced/a.txt", "synced/sub/b.bin"]
    top = run("s3", "ls", f"s3://{bucket}/")
    assert "PRE single/" in top.stdout and "PRE synced/" in top.stdout
    again = run("s3", "sync", str(src), f"s3://{bucket}/synced")
    assert again.returncode == 0 and again.stdout.strip() == ""  # nothing changed: nothing copied
    dst = tmp_path / "dst"
    result = run("s3", "cp", "--recursive", f"s3://{bucket}/synced", str(dst))
    assert result.returncode == 0, result.stderr
    assert (dst / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    assert (dst / "a.txt").read_bytes() == b"alpha"
    result = run("s3", "rm", "--recursive", f"s3://{bucket}/synced")
    assert result.returncode == 0, result.stderr
    listing = run("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert [line.split()[-1] for line in listing.stdout.splitlines()] == ["single/a.txt"]


def test_cli_s3api(aws_endpoint_url: str, bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_bytes(b"s3api body")
    put = aws_cli(aws_endpoint_url, "s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(body),
                  "--metadata", "a=b")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["ETag"]
    head = aws_cli(aws_endpoint_url, "s3api", "head-object", "--bucket", bucket, "--key", "k")
    assert json.loads(head.stdout)["Metadata"] == {"a": "b"}
    out = tmp_path / "out.txt"
    got = aws_cli(aws_endpoint_url, "s3api", "get-object", "--bucket", bucket, "--key", "k", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == b"s3api body"
    missing = aws_cli(aws_endpoint_url, "s3api", "get-object", "--bucket", bucket, "--key", "nope", str(out))
    assert missing.returncode != 0
    assert "NoSuchKey" in missing.stderr
    listed = json.loads(aws_cli(aws_endpoint_url, "s3api", "list-objects-v2", "--bucket", bucket).stdout)
    assert [o["Key"] for o in listed["Contents"]] == ["k"]
