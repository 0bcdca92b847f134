"""Deployment packages: zip bytes in the blob store, unpacked copies under ``<data>/lambda/code/``.

The zip is the durable truth: it is written to the blob store and each function version that uses
it holds a blob reference (owner ``lambda:<account>:<region>:<name>:<version>``), so a package
shared by ``$LATEST`` and published versions is stored once and freed by the blob store's garbage
collector when its last version goes.

What an environment runs is an unpacked copy, addressed by content: ``code/<sha256 hex>/``. It is
made at CreateFunction/UpdateFunctionCode time, and again from the blob on first use after a
restart (or if someone deleted it). Unpacking goes to a temporary directory renamed into place, so
a half-unpacked tree is never used. Unix permission bits stored in the zip are kept (a custom
runtime's ``bootstrap`` must be executable; it is made so even when the zip forgot). Python sources
are byte-compiled right after unpacking, so cold starts find ready ``__pycache__`` files.
"""

from __future__ import annotations

import base64
import compileall
import hashlib
import io
import os
import shutil
import stat
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from awsemu.services.lambda_.errors import InvalidParameterValueException

MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024


@dataclass(frozen=True)
class Package:
    """A checked zip: its bytes, AWS's CodeSha256 (base64 SHA-256), and its hex twin for paths."""

    data: bytes
    sha256_b64: str
    sha256_hex: str

    @property
    def size(self) -> int:
        return len(self.data)


def check_zip(data: bytes) -> Package:
    """Validate an uploaded zip the way Lambda does (size limits, readable archive)."""
    if len(data) > MAX_ZIPPED:
        raise InvalidParameterValueException(f"Zipped size must be smaller than {MAX_ZIPPED} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    if unzipped > MAX_UNZIPPED:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
        )
    digest = hashlib.sha256(data).digest()
    return Package(data, base64.b64encode(digest).decode(), digest.hex())


def fetch_from_s3(endpoint: str, region: str, access_key_id: str, bucket: str, key: str,
                  version_id: str | None = None) -> bytes:
    """Code.S3Bucket/S3Key: read the package through awsemu's own S3 API, as Lambda reads it from S3
    (blocking; the service talks to S3 the way any client does, never to its storage)."""
    import botocore.session
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError

    client = botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key_id,
        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
    params = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    try:
        response = client.get_object(**params)
        data: bytes = response["Body"].read(MAX_ZIPPED + 1)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise InvalidParameterValueException(
            f"Error occurred while GetObject. S3 Error Code: {error.get('Code')}. "
            f"S3 Error Message: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise InvalidParameterValueException(f"Error occurred while GetObject: {exc}") from None
    return data


def sha_hex(sha256_b64: str) -> str:
    return base64.b64decode(sha256_b64).hex()


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class CodeStore:
    """Packages in the blob store and their unpacked trees on disk."""

    def __init__(self, blobs: Any, root: Path) -> None:
        self.blobs = blobs
        self.root = root

    async def store(self, package: Package) -> str:
        """Write the zip to the blob store; returns the (still unreferenced) blob id."""
        ref = await self.blobs.write(_one_chunk(package.data))
        return str(ref.blob_id)

    def ref_ops(self, blob_id: str, owner: str) -> list[tuple[bytes, bytes | None]]:
        return list(self.blobs.ref_ops(blob_id, owner))

    def unref_ops(self, blob_id: str, owner: str) -> list[tuple[bytes, bytes | None]]:
        return list(self.blobs.unref_ops(blob_id, owner))

    def read(self, blob_id: str) -> bytes:
        """The zip's bytes (blocking)."""
        return b"".join(bytes(chunk) for chunk in self.blobs.iter_read(blob_id))

    def path_for(self, sha256_b64: str) -> Path:
        return self.root / sha_hex(sha256_b64)

    def unpacked(self, sha256_b64: str, blob_id: str, data: bytes | None = None) -> Path:
        """The unpacked tree of a package, made now if missing (blocking: call it off the loop)."""
        target = self.path_for(sha256_b64)
        if target.is_dir():
            return target
        if data is None:
            data = self.read(blob_id)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{target.name}.{uuid.uuid4().hex}"
        try:
            unpack(data, staging)
            try:
                os.rename(staging, target)
            except OSError:
                if not target.is_dir():  # not "another caller won the race"
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def unpack(data: bytes, dest: Path) -> None:
    """Extract a zip keeping Unix modes; entries escaping ``dest`` are refused by zipfile itself."""
    dest.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o7777
            if mode and not info.is_dir():
                os.chmod(path, mode | stat.S_IRUSR)
    # Byte-compile now, once per package, so that no cold start pays for compiling the handler
    # (the environments run the server's own interpreter, so the cache tag matches).
    compileall.compile_dir(str(dest), quiet=2, workers=1)
    bootstrap = dest / "bootstrap"
    if bootstrap.is_file():
        bootstrap.chmod(bootstrap.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
