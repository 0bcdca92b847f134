"""Fixtures for the blob-store tests: a real LSM DB and blob stores on tmp directories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from awsemu.storage.blobs import BlobStore
from awsemu.storage.lsm import DB


@pytest.fixture
def db(tmp_path: Path) -> Iterator[DB]:
    d = DB.open(tmp_path / "meta")
    yield d
    d.close()


@pytest.fixture
def make_store(db: DB, tmp_path: Path) -> Iterator[Callable[..., BlobStore]]:
    """Factory: ``make_store(**options)`` -> BlobStore on ``tmp_path/drives/d*`` (closed after)."""
    stores: list[BlobStore] = []

    def make(**options: Any) -> BlobStore:
        store = BlobStore.open(db, tmp_path, **options)
        stores.append(store)
        return store

    yield make
    for s in stores:
        s.close()


async def chunked(data: bytes, sizes: list[int] | None = None) -> AsyncIterator[bytes]:
    """Yield ``data`` in pieces of the given sizes (cycled), default 64 KiB."""
    sizes = sizes or [64 * 1024]
    pos, i = 0, 0
    while pos < len(data):
        n = max(1, sizes[i % len(sizes)])
        yield data[pos : pos + n]
        pos += n
        i += 1


def write(store: BlobStore, data: bytes, **kw: Any) -> Any:
    return asyncio.run(store.write(chunked(data, kw.pop("sizes", None)), **kw))


def read(store: BlobStore, blob_id: str, start: int = 0, end: int | None = None) -> bytes:
    async def go() -> bytes:
        return b"".join([bytes(c) async for c in store.read(blob_id, start, end)])

    return asyncio.run(go())


@pytest.fixture
def blobio() -> Any:
    """Helpers as a fixture (tests run with --import-mode=importlib, so no shared module import)."""

    class IO:
        chunked = staticmethod(chunked)
        write = staticmethod(write)
        read = staticmethod(read)

    return IO
