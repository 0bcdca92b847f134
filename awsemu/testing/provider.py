"""A provider run in-process over a real data dir, for tests beneath the gateway.

Opens the LSM engine (and, when asked, the blob store) under ``data_dir``, builds the provider,
and calls its operations by AWS name with a :class:`CallContext`, the way the gateway does
(coroutine methods are run to completion). ``restart()`` closes and reopens the same data dir.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Generic, TypeVar

from awsemu.config import Config
from awsemu.services.base import CallContext, Provider
from awsemu.storage import Storage
from awsemu.storage.lsm import DB

ACCOUNT = "000000000000"
ENDPOINT = "http://localhost:4566"
P = TypeVar("P", bound=Provider)


class InProcessProvider(Generic[P]):
    service = ""

    def __init__(self, provider_cls: type[P], data_dir: Path, *, service: str, with_blobs: bool = False) -> None:
        self.provider_cls = provider_cls
        self.service = service
        self.data_dir = data_dir
        self.with_blobs = with_blobs
        self.db: Any = None
        self.provider: P | None = None
        self.open()

    def config(self) -> Config:
        return Config(data_dir=self.data_dir)

    def storage(self) -> Storage:
        blobs = None
        if self.with_blobs:
            from awsemu.storage.blobs import BlobStore

            blobs = BlobStore.open(self.db, self.data_dir)
        return Storage(self.data_dir, self.db, blobs)

    def open(self) -> None:
        self.db = DB.open(self.data_dir / "meta")
        self.provider = self.provider_cls(self.storage(), self.config())
        self.started(self.provider)
        self.provider.start()

    def started(self, provider: P) -> None:
        """Hook: adjust the provider before start (intervals, siblings)."""

    def close(self) -> None:
        if self.provider is not None:
            self.provider.stop()
            if self.provider.storage.blobs is not None:
                self.provider.storage.blobs.close()
            self.provider = None
        if self.db is not None:
            self.db.close()
            self.db = None

    def restart(self) -> None:
        self.close()
        self.open()

    def ctx(self, operation: str, account: str = ACCOUNT, region: str = "us-east-1",
            endpoint: str = ENDPOINT) -> CallContext:
        return CallContext(service=self.service, operation=operation, account_id=account, region=region,
                           endpoint=endpoint)

    def target(self, operation: str) -> Any:
        """The provider that serves an operation (subclasses route some elsewhere)."""
        return self.provider

    def __call__(self, operation: str, *, _account: str = ACCOUNT, _region: str = "us-east-1",
                 _endpoint: str = ENDPOINT, **params: Any) -> Any:
        assert self.provider is not None
        method = self.target(operation).handler_for(operation)
        assert method is not None, operation
        result = method(self.ctx(operation, _account, _region, _endpoint), **params)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result
