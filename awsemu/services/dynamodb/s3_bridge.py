"""DynamoDB's way into S3 for table exports and imports: the sibling S3 provider's own methods,
called in-process (providers never talk HTTP to each other; the app hands every provider its
siblings through ``attach``).

Exports and imports run on their own worker threads, off the server's event loop. The S3
provider's PutObject is a coroutine (bodies stream into the blob store), so each bridge call that
needs it runs it on the bridge's own event loop (closed with the bridge); everything else S3 offers here
(HeadBucket, GetObject of a stored body, ListObjectsV2) is synchronous.

Failures come back as :class:`S3Failure` carrying the code an export or import reports in its
``FailureCode`` (``S3NoSuchBucket``, ``S3AccessDenied``, as DynamoDB words them).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Iterator

from awsemu.services.base import CallContext, ServiceError


class S3Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class S3Bridge:
    """Reads and writes objects of one account's view of S3 through the S3 provider."""

    def __init__(self, s3: Any | None, account: str, region: str, sse: dict[str, str] | None = None) -> None:
        self.s3 = s3
        self.account = account
        self.region = region
        self.sse = sse or {}  # PutObject's ServerSideEncryption / SSEKMSKeyId for every object written
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> "S3Bridge":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def _run(self, coroutine: Any) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def _ctx(self, operation: str) -> CallContext:
        return CallContext(service="s3", operation=operation, account_id=self.account, region=self.region)

    def _failure(self, bucket: str, exc: ServiceError) -> S3Failure:
        if exc.code == "NoSuchBucket":
            return S3Failure("S3NoSuchBucket", f"The specified bucket does not exist (Bucket: {bucket})")
        if exc.code == "AccessDenied":
            return S3Failure("S3AccessDenied", f"Access Denied (Bucket: {bucket})")
        return S3Failure(f"S3{exc.code}", exc.message)

    def check_bucket(self, bucket: str, owner: str | None) -> None:
        """The bucket exists (and belongs to ``owner`` when one is named)."""
        if self.s3 is None:
            raise S3Failure("S3NoSuchBucket", f"The specified bucket does not exist (Bucket: {bucket}); "
                                              "S3 is not enabled on this server")
        try:
            self.s3.head_bucket(self._ctx("HeadBucket"), Bucket=bucket)
        except ServiceError as exc:
            raise self._failure(bucket, exc) from None
        record = self.s3.store.bucket(bucket)
        if owner is not None and record is not None and record.owner != owner:
            raise S3Failure("S3AccessDenied", f"Access Denied: the bucket {bucket} is not owned by account {owner}")

    def put(self, bucket: str, key: str, body: bytes, content_type: str | None = None) -> str:
        """Store an object; returns its ETag (without quotes)."""
        assert self.s3 is not None
        extra: dict[str, Any] = {"ContentLength": len(body), **self.sse}
        if content_type:
            extra["ContentType"] = content_type
        try:
            out = self._run(self.s3.put_object(self._ctx("PutObject"), Bucket=bucket, Key=key, Body=body, **extra))
        except ServiceError as exc:
            raise self._failure(bucket, exc) from None
        return str(out["ETag"]).strip('"')

    def get(self, bucket: str, key: str) -> bytes:
        assert self.s3 is not None
        try:
            body = self.s3.get_object(self._ctx("GetObject"), Bucket=bucket, Key=key)["Body"]
        except ServiceError as exc:
            raise self._failure(bucket, exc) from None
        if isinstance(body, (bytes, bytearray, memoryview)):
            return bytes(body)

        async def collect() -> bytes:
            return b"".join([bytes(chunk) async for chunk in body])

        return bytes(self._run(collect()))

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, in key order."""
        assert self.s3 is not None
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Prefix": prefix}
            if token:
                params["ContinuationToken"] = token
            try:
                page = self.s3.list_objects_v2(self._ctx("ListObjectsV2"), Bucket=bucket, **params)
            except ServiceError as exc:
                raise self._failure(bucket, exc) from None
            for content in page.get("Contents") or []:
                yield content["Key"]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
