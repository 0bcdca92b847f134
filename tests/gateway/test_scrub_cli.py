"""`awsemu scrub` on a stopped server's data dir: finds rotten shard blocks, heals them, then is clean."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from awsemu.config import Config
from awsemu.datadir import DataDir
from awsemu.app import close_storage, open_storage


async def _chunks(data: bytes):
    for i in range(0, len(data), 65536):
        yield data[i:i + 65536]


def _scrub(data_dir) -> tuple[int, dict]:
    out = subprocess.run([sys.executable, "-m", "awsemu", "scrub", "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=120, env={**os.environ})
    return out.returncode, json.loads(out.stdout)


def test_scrub_heals_rotten_shards_and_second_scrub_is_clean(tmp_path):
    data_dir = tmp_path / "state"
    body = os.urandom(3 * 1024 * 1024 + 17)
    dd = DataDir.acquire(data_dir, ephemeral=False)
    storage = open_storage(dd, Config(data_dir=data_dir))
    try:
        ref = asyncio.run(storage.blobs.write(_chunks(body)))
        storage.db.write_batch(storage.blobs.ref_ops(ref.blob_id, owner="test:object"))
    finally:
        close_storage(storage)
        dd.release()
    shard_files = sorted(p for p in (data_dir / "drives").rglob("*") if p.is_file() and ref.blob_id in p.name)
    assert len(shard_files) == 6
    # Rot one byte in the middle of two different shard files.
    for path in shard_files[:2]:
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))

    code, report = _scrub(data_dir)
    assert code == 0
    assert report["bad_shards"] and not report["unrecoverable"] and report["clean"] is False
    code, report = _scrub(data_dir)
    assert code == 0 and report["clean"] is True

    dd = DataDir.acquire(data_dir, ephemeral=False)
    storage = open_storage(dd, Config(data_dir=data_dir))
    try:
        async def read_all() -> bytes:
            return b"".join([b async for b in storage.blobs.read(ref.blob_id)])

        assert asyncio.run(read_all()) == body
    finally:
        close_storage(storage)
        dd.release()


def test_scrub_refuses_a_data_dir_in_use(awsemu_server):
    out = subprocess.run([sys.executable, "-m", "awsemu", "scrub", "--data-dir", str(awsemu_server.data_dir / "state")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip().endswith("is in use by another awsemu process")
